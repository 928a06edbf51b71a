import { ACTION_FROM, type TaskStatus } from '../../../src/domain/task.js';

export { TASK_STATUSES } from '../../../src/domain/task.js';
export { formatTime } from '../i18n/index.js';

export const STATUS_COLOR: Record<TaskStatus, string> = {
  pending: 'default',
  running: 'processing',
  completed: 'success',
  failed: 'error',
  cancelled: 'warning',
};

/** The row actions a status allows, from the one transition table, in src/domain/task.ts. */
export function allowedActions(status: TaskStatus): {
  stop: boolean;
  cancel: boolean;
  rerun: boolean;
} {
  return {
    stop: ACTION_FROM.stop.includes(status),
    cancel: ACTION_FROM.cancel.includes(status),
    rerun: ACTION_FROM.rerun.includes(status),
  };
}
