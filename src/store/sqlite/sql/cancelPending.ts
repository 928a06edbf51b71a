import type { Task } from '../../../domain/task.js';
import type { SqliteDb } from '../database.js';
import { TASK_COLUMNS, toTask, type TaskRow } from '../rows.js';

/**
 * pending → cancelled; the row leaves its lane in the same statement, so it can never be claimed.
 * The reason is also its message: it never ran, so no progress line would say what happened.
 */
export function cancelPending(db: SqliteDb, id: string, reason: string, now: string): Task | null {
  const row = db
    .stmt(
      `UPDATE tasks SET version = version + 1, status = 'cancelled', error_message = ?, message = ?,
              completed_at = ?, updated_at = ?
        WHERE id = ? AND status = 'pending'
       RETURNING ${TASK_COLUMNS}`,
    )
    .get(reason, reason, now, now, id) as TaskRow | undefined;
  return row ? toTask(row) : null;
}
