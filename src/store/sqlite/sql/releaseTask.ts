import type { Task } from '../../../domain/task.js';
import type { Release } from '../../store.js';
import type { SqliteDb } from '../database.js';
import { TASK_COLUMNS, toTask, type TaskRow } from '../rows.js';

/** running → pending, keeping queue_seq (its place in the lane) and giving the attempt back. */
export function releaseTask(db: SqliteDb, release: Release, now: string): Task | null {
  const row = db
    .stmt(
      `UPDATE tasks
          SET version = version + 1, status = 'pending', attempts = MAX(attempts - 1, 0), message = ?, owner_instance = NULL,
              claim_token = NULL, lease_expires_at = NULL, updated_at = ?
        WHERE id = ? AND claim_token = ? AND status = 'running'
       RETURNING ${TASK_COLUMNS}`,
    )
    .get(release.message, now, release.taskId, release.token) as TaskRow | undefined;
  return row ? toTask(row) : null;
}
