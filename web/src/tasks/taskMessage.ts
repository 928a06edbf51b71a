import type { TaskStatus } from '../../../src/client/index.js';

/**
 * What a row shows under "Message". A running or pending task shows its progress line. A finished
 * task shows its error when it failed, else the final message the server wrote with its terminal
 * status ("6 image(s) from 2 loop(s)", "stopped by user at step 36/60"): the server replaces the
 * last progress line when a task finishes, so a finished task never shows a stale one.
 */
export function visibleMessage(task: {
  status: TaskStatus;
  message: string;
  error_message: string | null;
}): { kind: 'error'; text: string } | { kind: 'progress'; text: string } | { kind: 'status' } {
  if (task.error_message) return { kind: 'error', text: task.error_message };
  if (task.message) return { kind: 'progress', text: task.message };
  return { kind: 'status' };
}
