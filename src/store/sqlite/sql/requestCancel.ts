import type { Task } from '../../../domain/task.js';
import type { SqliteDb } from '../database.js';
import { TASK_COLUMNS, toTask, type TaskRow } from '../rows.js';

/** Durable stop request: the owner aborts the executor; crash recovery turns it into cancelled. */
export function requestCancel(db: SqliteDb, id: string, now: string): Task | null {
  const row = db
    .stmt(
      `UPDATE tasks SET version = version + 1, cancel_requested = 1, updated_at = ?
        WHERE id = ? AND status = 'running'
       RETURNING ${TASK_COLUMNS}`,
    )
    .get(now, id) as TaskRow | undefined;
  return row ? toTask(row) : null;
}
