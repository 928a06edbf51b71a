import type { Task } from '../../../domain/task.js';
import { CANCEL_CHANNEL } from '../channels.js';
import type { Sql } from '../database.js';
import { TASK_COLUMNS, toTask, type TaskRow } from '../rows.js';

/**
 * Durable stop request: the owner aborts the executor (told at once through the cancel channel,
 * else at its next heartbeat); crash recovery turns it into cancelled.
 */
export async function requestCancel(sql: Sql, id: string): Promise<Task | null> {
  const [row] = await sql.rows<TaskRow>(
    `UPDATE tasks SET version = version + 1, cancel_requested = true, updated_at = now()
      WHERE id = $1 AND status = 'running'
     RETURNING ${TASK_COLUMNS}, pg_notify('${CANCEL_CHANNEL}', id) AS notified`,
    [id],
  );
  return row ? toTask(row) : null;
}
