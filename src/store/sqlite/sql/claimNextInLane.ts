import { newClaimToken } from '../../../domain/ids.js';
import { startedAttemptMessage } from '../../../domain/task.js';
import type { ClaimedTask, Owner } from '../../store.js';
import type { SqliteDb } from '../database.js';
import { TASK_COLUMNS, toTask, type TaskRow } from '../rows.js';
import { appendLog } from './taskLogs.js';

/**
 * pending → running for the head of one lane (highest priority, then queue order), only if the
 * lane has no running task, plus the attempt's first log line. Runs inside the caller's IMMEDIATE
 * transaction; the partial unique index `tasks_one_running_per_type` would reject a second
 * running row even if this check raced.
 */
export function claimNextInLane(
  db: SqliteDb,
  type: string,
  owner: Owner,
  leaseExpiresAt: number,
  now: string,
): ClaimedTask | null {
  const token = newClaimToken();
  const row = db
    .stmt(
      `UPDATE tasks
          SET version = version + 1, status = 'running', attempts = attempts + 1, progress = 0, message = '',
              result = NULL, error_message = NULL, owner = ?, owner_instance = ?, claim_token = ?,
              lease_expires_at = ?, cancel_requested = 0, started_at = ?, completed_at = NULL,
              updated_at = ?
        WHERE seq = (SELECT seq FROM tasks WHERE type = ? AND status = 'pending'
                      ORDER BY priority DESC, queue_seq ASC LIMIT 1)
          AND NOT EXISTS (SELECT 1 FROM tasks WHERE type = ? AND status = 'running')
       RETURNING ${TASK_COLUMNS}`,
    )
    .get(owner.node, owner.instance, token, leaseExpiresAt, now, now, type, type) as
    TaskRow | undefined;
  if (!row) return null;
  const task = toTask(row);
  const log = appendLog(
    db,
    {
      taskId: task.id,
      level: 'info',
      message: startedAttemptMessage(task.attempts, task.max_attempts, owner.node),
    },
    now,
  );
  // The row was claimed in this transaction, so it exists and the line is always written.
  if (!log) throw new Error(`claimed task ${task.id} has no row for its log`);
  return { task, token, log };
}
