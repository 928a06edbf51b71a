import type { Task } from '../../../domain/task.js';
import type { Finish } from '../../store.js';
import type { Sql } from '../database.js';
import { pgTextOrNull, TASK_COLUMNS, toJsonText, toTask, type TaskRow } from '../rows.js';

/**
 * running → completed | failed | cancelled, fenced by the claim token: a late write from an
 * executor that was stopped, or from a process that lost its lease, matches no row.
 */
export async function finishTask(sql: Sql, finish: Finish): Promise<Task | null> {
  const [row] = await sql.rows<TaskRow>(
    `UPDATE tasks
        SET version = version + 1, status = $3::text, result = $4::json, error_message = $5,
            progress = CASE WHEN $3::text = 'completed' THEN 100 ELSE progress END,
            lease_expires_at = NULL, cancel_requested = false, completed_at = now(), updated_at = now()
      WHERE id = $1 AND claim_token = $2 AND status = 'running'
     RETURNING ${TASK_COLUMNS}`,
    [
      finish.taskId,
      finish.token,
      finish.status,
      toJsonText(finish.result),
      pgTextOrNull(finish.errorMessage),
    ],
  );
  return row ? toTask(row) : null;
}
