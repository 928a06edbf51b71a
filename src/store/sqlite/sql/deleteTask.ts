import type { TerminalStatus } from '../../../domain/task.js';
import type { SqliteDb } from '../database.js';

/** A running task is never deleted here: the scheduler stops it first, so a cleanup can never remove work in progress. */
export function deleteTask(db: SqliteDb, id: string): 'deleted' | 'running' | 'missing' {
  const changes = db.stmt(`DELETE FROM tasks WHERE id = ? AND status <> 'running'`).run(id).changes;
  if (changes > 0) return 'deleted';
  return db.stmt('SELECT 1 FROM tasks WHERE id = ?').get(id) ? 'running' : 'missing';
}

export function cleanupTasks(
  db: SqliteDb,
  statuses: readonly TerminalStatus[],
): { id: string; type: string }[] {
  if (statuses.length === 0) return [];
  const marks = statuses.map(() => '?').join(', ');
  return db
    .stmt(`DELETE FROM tasks WHERE status IN (${marks}) RETURNING id, type`)
    .all(...statuses) as { id: string; type: string }[];
}
