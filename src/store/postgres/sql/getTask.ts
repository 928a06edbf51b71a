import type { Task } from '../../../domain/task.js';
import type { Sql } from '../database.js';
import { TASK_COLUMNS, toTask, type TaskRow } from '../rows.js';

export async function getTask(sql: Sql, id: string): Promise<Task | null> {
  const [row] = await sql.rows<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks WHERE id = $1`, [id]);
  return row ? toTask(row) : null;
}
