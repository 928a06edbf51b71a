import type { Task } from '../../../domain/task.js';
import type { SqliteDb } from '../database.js';
import { TASK_COLUMNS, toTask, type TaskRow } from '../rows.js';

export function getTask(db: SqliteDb, id: string): Task | null {
  const row = db.stmt(`SELECT ${TASK_COLUMNS} FROM tasks WHERE id = ?`).get(id) as
    TaskRow | undefined;
  return row ? toTask(row) : null;
}
