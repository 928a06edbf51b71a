import type { Task } from '../../../domain/task.js';
import { INTERRUPTED_MESSAGE, type Owner, type RecoveryResult } from '../../store.js';
import type { SqliteDb } from '../database.js';
import { TASK_COLUMNS, toTask, type TaskRow } from '../rows.js';

const ORPHAN = `status = 'running' AND (lease_expires_at < ? OR (owner = ? AND owner_instance <> ?))`;

/**
 * Running rows whose process is gone. A requeued row keeps its queue_seq, so it returns to its
 * original place in the lane rather than the tail.
 */
export function recoverOrphans(
  db: SqliteDb,
  owner: Owner,
  nowMs: number,
  now: string,
): RecoveryResult {
  const params = [nowMs, owner.node, owner.instance] as const;
  const run = (sql: string, ...extra: (string | number)[]): Task[] =>
    (db.stmt(sql).all(...extra, ...params) as TaskRow[]).map(toTask);
  const cancelled = run(
    `UPDATE tasks SET version = version + 1, status = 'cancelled', error_message = 'cancelled (the process running it stopped)',
            lease_expires_at = NULL, cancel_requested = 0, completed_at = ?, updated_at = ?
      WHERE ${ORPHAN} AND cancel_requested = 1
     RETURNING ${TASK_COLUMNS}`,
    now,
    now,
  );
  const requeued = run(
    `UPDATE tasks SET version = version + 1, status = 'pending', owner_instance = NULL, claim_token = NULL,
            lease_expires_at = NULL, message = 'requeued after interruption', updated_at = ?
      WHERE ${ORPHAN} AND attempts < max_attempts
     RETURNING ${TASK_COLUMNS}`,
    now,
  );
  const failed = run(
    `UPDATE tasks SET version = version + 1, status = 'failed', error_message = ?, lease_expires_at = NULL,
            completed_at = ?, updated_at = ?
      WHERE ${ORPHAN}
     RETURNING ${TASK_COLUMNS}`,
    `${INTERRUPTED_MESSAGE} (attempt limit reached)`,
    now,
    now,
  );
  return { requeued, failed, cancelled };
}
