import type { Task } from '../../../domain/task.js';
import type { ListQuery } from '../../store.js';
import type { Sql } from '../database.js';
import { TASK_COLUMNS, toTask, type TaskRow } from '../rows.js';

/** Newest first. Each filter combination has an index ending in `seq`, so paging never sorts. */
export async function listTasks(
  sql: Sql,
  query: ListQuery,
): Promise<{ tasks: Task[]; total: number }> {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (query.type !== undefined) {
    params.push(query.type);
    where.push(`type = $${params.length}`);
  }
  if (query.status !== undefined) {
    params.push(query.status);
    where.push(`status = $${params.length}`);
  }
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const [count] = await sql.rows<{ n: string }>(
    `SELECT count(*) AS n FROM tasks ${clause}`,
    params,
  );
  const rows = await sql.rows<TaskRow>(
    `SELECT ${TASK_COLUMNS} FROM tasks ${clause}
      ORDER BY seq DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
    [...params, query.pageSize, (query.page - 1) * query.pageSize],
  );
  return { tasks: rows.map(toTask), total: Number(count!.n) };
}
