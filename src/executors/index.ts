import type { TailorConfig } from '../config/config.js';
import type { ExecutorDefinition } from '../scheduler/executor.js';

/** The executors a server registers unless told otherwise. */
export function builtInExecutors(_config: TailorConfig): ExecutorDefinition[] {
  return [];
}
