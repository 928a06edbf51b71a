import type { Task } from '../../../domain/task.js';
import type { Release } from '../../store.js';
import { LANE_CHANNEL } from '../channels.js';
import type { Sql } from '../database.js';
import { pgText, TASK_COLUMNS, toTask, type TaskRow } from '../rows.js';

/** running → pending, keeping queue_seq (its place in the lane) and giving the attempt back. */
export async function releaseTask(sql: Sql, release: Release): Promise<Task | null> {
  const [row] = await sql.rows<TaskRow>(
    `UPDATE tasks
        SET version = version + 1, status = 'pending', attempts = GREATEST(attempts - 1, 0), message = $3,
            owner_instance = NULL, claim_token = NULL, lease_expires_at = NULL, updated_at = now()
      WHERE id = $1 AND claim_token = $2 AND status = 'running'
     RETURNING ${TASK_COLUMNS}, pg_notify('${LANE_CHANNEL}', type) AS notified`,
    [release.taskId, release.token, pgText(release.message)],
  );
  return row ? toTask(row) : null;
}
