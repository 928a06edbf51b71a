import type { Task } from '../../../domain/task.js';
import type { ListQuery } from '../../store.js';
import type { SqliteDb } from '../database.js';
import { TASK_COLUMNS, toTask, type TaskRow } from '../rows.js';

/** Newest first. Each filter combination has an index ending in `seq`, so paging never sorts. */
export function listTasks(db: SqliteDb, query: ListQuery): { tasks: Task[]; total: number } {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (query.type !== undefined) {
    where.push('type = ?');
    params.push(query.type);
  }
  if (query.status !== undefined) {
    where.push('status = ?');
    params.push(query.status);
  }
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = (
    db.stmt(`SELECT COUNT(*) AS n FROM tasks ${clause}`).get(...params) as { n: number }
  ).n;
  const rows = db
    .stmt(`SELECT ${TASK_COLUMNS} FROM tasks ${clause} ORDER BY seq DESC LIMIT ? OFFSET ?`)
    .all(...params, query.pageSize, (query.page - 1) * query.pageSize) as TaskRow[];
  return { tasks: rows.map(toTask), total };
}
