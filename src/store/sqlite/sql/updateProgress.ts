import type { Task } from '../../../domain/task.js';
import type { ProgressUpdate } from '../../store.js';
import type { SqliteDb } from '../database.js';
import { TASK_COLUMNS, toTask, type TaskRow } from '../rows.js';

/** Progress never decreases within one attempt; the message always takes the latest line. */
export function updateProgress(db: SqliteDb, update: ProgressUpdate, now: string): Task | null {
  const row = db
    .stmt(
      `UPDATE tasks SET version = version + 1, progress = MAX(progress, ?), message = ?, updated_at = ?
        WHERE id = ? AND claim_token = ? AND status = 'running'
       RETURNING ${TASK_COLUMNS}`,
    )
    .get(update.progress, update.message, now, update.taskId, update.token) as TaskRow | undefined;
  return row ? toTask(row) : null;
}
