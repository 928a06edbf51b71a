import type { TailorConfig } from '../config/config.js';
import type { ExecutorDefinition } from '../scheduler/executor.js';
import { createGenerateExecutor } from './generate/index.js';

/** The executors a server registers unless told otherwise. */
export function builtInExecutors(config: TailorConfig): ExecutorDefinition[] {
  return [createGenerateExecutor({ webuiUrl: config.sdWebuiUrl })];
}
