import type { Task } from '../../../domain/task.js';
import { LANE_CHANNEL } from '../channels.js';
import type { Sql } from '../database.js';
import { TASK_COLUMNS, toTask, type TaskRow } from '../rows.js';

/** terminal → pending at the tail of its lane; logs are kept, the attempt budget starts afresh. */
export async function rerunTask(sql: Sql, id: string): Promise<Task | null> {
  const [row] = await sql.rows<TaskRow>(
    `UPDATE tasks
        SET version = version + 1, status = 'pending', progress = 0, message = '', result = NULL,
            error_message = NULL, attempts = 0, started_at = NULL, completed_at = NULL,
            claim_token = NULL, owner_instance = NULL, lease_expires_at = NULL,
            cancel_requested = false, updated_at = now(), queue_seq = nextval('tasks_queue_seq_seq')
      WHERE id = $1 AND status IN ('completed', 'failed', 'cancelled')
     RETURNING ${TASK_COLUMNS}, pg_notify('${LANE_CHANNEL}', type) AS notified`,
    [id],
  );
  return row ? toTask(row) : null;
}
