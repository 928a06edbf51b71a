import type { Task } from '../../../domain/task.js';
import type { SqliteDb } from '../database.js';
import { TASK_COLUMNS, toTask, type TaskRow } from '../rows.js';

/** terminal → pending at the tail of its lane; logs are kept, the attempt budget starts afresh. */
export function rerunTask(db: SqliteDb, id: string, now: string): Task | null {
  const row = db
    .stmt(
      `UPDATE tasks
          SET version = version + 1, status = 'pending', progress = 0, message = '', result = NULL, error_message = NULL,
              attempts = 0, started_at = NULL, completed_at = NULL, claim_token = NULL,
              owner_instance = NULL, cancel_requested = 0, updated_at = ?,
              queue_seq = (SELECT MAX(queue_seq) + 1 FROM tasks)
        WHERE id = ? AND status IN ('completed', 'failed', 'cancelled')
       RETURNING ${TASK_COLUMNS}`,
    )
    .get(now, id) as TaskRow | undefined;
  return row ? toTask(row) : null;
}
