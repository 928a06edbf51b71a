import type { Task } from '../../../domain/task.js';
import type { Sql } from '../database.js';
import { pgText, TASK_COLUMNS, toTask, type TaskRow } from '../rows.js';

/**
 * pending → cancelled; the row leaves its lane in the same statement, so it can never be claimed.
 * The reason is also its message: it never ran, so no progress line would say what happened.
 */
export async function cancelPending(sql: Sql, id: string, reason: string): Promise<Task | null> {
  const [row] = await sql.rows<TaskRow>(
    `UPDATE tasks SET version = version + 1, status = 'cancelled', error_message = $2, message = $2,
            completed_at = now(), updated_at = now()
      WHERE id = $1 AND status = 'pending'
     RETURNING ${TASK_COLUMNS}`,
    [id, pgText(reason)],
  );
  return row ? toTask(row) : null;
}
