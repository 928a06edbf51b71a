import type { Task } from '../../../domain/task.js';
import { INTERRUPTED_MESSAGE, type Owner, type RecoveryResult } from '../../store.js';
import { LANE_CHANNEL } from '../channels.js';
import type { Sql } from '../database.js';
import { TASK_COLUMNS, toTask, type TaskRow } from '../rows.js';

/**
 * Running rows whose process is gone: the lease expired by the database clock, or the row
 * belongs to this node but an earlier instance of it (a restart). One statement decides each
 * row's outcome on the locked, current row, so a cancel request or lease renewal committed a
 * moment earlier is honoured. A requeued row keeps its queue_seq: it returns to its original
 * place in the lane, not the tail. Every recovered row frees its lane, which is announced.
 */
export async function recoverOrphans(sql: Sql, owner: Owner): Promise<RecoveryResult> {
  const rows = await sql.rows<TaskRow>(
    `WITH orphan AS (
       SELECT seq,
              CASE WHEN cancel_requested THEN 'cancelled'
                   WHEN attempts < max_attempts THEN 'pending'
                   ELSE 'failed' END AS outcome
         FROM tasks
        WHERE status = 'running'
          AND (lease_expires_at < clock_timestamp() OR (owner = $1 AND owner_instance <> $2))
        ORDER BY seq
          FOR NO KEY UPDATE
     )
     UPDATE tasks
        SET version = version + 1,
            status = orphan.outcome,
            error_message = CASE orphan.outcome
                              WHEN 'cancelled' THEN 'cancelled (the process running it stopped)'
                              WHEN 'failed' THEN $3
                              ELSE error_message END,
            message = CASE WHEN orphan.outcome = 'pending' THEN 'requeued after interruption' ELSE message END,
            owner_instance = CASE WHEN orphan.outcome = 'pending' THEN NULL ELSE owner_instance END,
            claim_token = NULL, lease_expires_at = NULL, cancel_requested = false,
            completed_at = CASE WHEN orphan.outcome = 'pending' THEN completed_at ELSE now() END,
            updated_at = now()
       FROM orphan
      WHERE tasks.seq = orphan.seq
     RETURNING ${TASK_COLUMNS}, pg_notify('${LANE_CHANNEL}', type) AS notified`,
    [owner.node, owner.instance, `${INTERRUPTED_MESSAGE} (attempt limit reached)`],
  );
  const tasks = rows.map(toTask);
  const having = (status: Task['status']): Task[] => tasks.filter((task) => task.status === status);
  return { requeued: having('pending'), failed: having('failed'), cancelled: having('cancelled') };
}
