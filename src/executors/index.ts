import type { ExecutorModule } from './module.js';
import { crawlModule } from './crawl/module.js';
import { generateModule } from './generate/module.js';
import { tagModule } from './tag/module.js';
import { trainModule } from './train/module.js';

/**
 * The executor modules a server loads unless told otherwise. Adding a task type is its folder
 * under `src/executors/` plus one line here.
 */
export const builtInModules: readonly ExecutorModule[] = [
  generateModule,
  crawlModule,
  tagModule,
  trainModule,
];
