import type { Task } from '../../../domain/task.js';
import type { Finish } from '../../store.js';
import type { SqliteDb } from '../database.js';
import { TASK_COLUMNS, toTask, type TaskRow } from '../rows.js';

/**
 * running → completed | failed | cancelled, fenced by the claim token: a late write from an
 * executor that was stopped, or from a process that lost its lease, matches no row.
 */
export function finishTask(db: SqliteDb, finish: Finish, now: string): Task | null {
  const row = db
    .stmt(
      `UPDATE tasks
          SET version = version + 1, status = ?, result = ?, error_message = ?,
              message = coalesce(?, message),
              progress = CASE WHEN ? = 'completed' THEN 100 ELSE progress END,
              lease_expires_at = NULL, cancel_requested = 0, completed_at = ?, updated_at = ?
        WHERE id = ? AND claim_token = ? AND status = 'running'
       RETURNING ${TASK_COLUMNS}`,
    )
    .get(
      finish.status,
      finish.result === undefined || finish.result === null ? null : JSON.stringify(finish.result),
      finish.errorMessage ?? null,
      finish.message ?? null,
      finish.status,
      now,
      now,
      finish.taskId,
      finish.token,
    ) as TaskRow | undefined;
  return row ? toTask(row) : null;
}
