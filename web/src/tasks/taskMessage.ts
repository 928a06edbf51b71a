import type { TaskStatus } from '../../../src/client/index.js';

/**
 * What a row shows under "Message". A progress line describes running work; once the task is no
 * longer running that line is stale (a cancelled task at "sampling 40%"), so the error shows, or
 * else the status itself.
 */
export function visibleMessage(task: {
  status: TaskStatus;
  message: string;
  error_message: string | null;
}): { kind: 'error'; text: string } | { kind: 'progress'; text: string } | { kind: 'status' } {
  if (task.error_message) return { kind: 'error', text: task.error_message };
  if (task.status === 'running' && task.message) return { kind: 'progress', text: task.message };
  return { kind: 'status' };
}
