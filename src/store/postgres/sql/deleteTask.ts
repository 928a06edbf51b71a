import type { TerminalStatus } from '../../../domain/task.js';
import type { Sql } from '../database.js';

/**
 * A running task is never deleted here: the scheduler stops it first, so a cleanup can never remove work in progress.
 * One statement: `present` reads the snapshot from before the delete.
 */
export async function deleteTask(sql: Sql, id: string): Promise<'deleted' | 'running' | 'missing'> {
  const [row] = await sql.rows<{ deleted: boolean; present: boolean }>(
    `WITH gone AS (DELETE FROM tasks WHERE id = $1 AND status <> 'running' RETURNING 1)
     SELECT EXISTS (SELECT 1 FROM gone) AS deleted, EXISTS (SELECT 1 FROM tasks WHERE id = $1) AS present`,
    [id],
  );
  if (row!.deleted) return 'deleted';
  return row!.present ? 'running' : 'missing';
}

export async function cleanupTasks(
  sql: Sql,
  statuses: readonly TerminalStatus[],
): Promise<{ id: string; type: string }[]> {
  if (statuses.length === 0) return [];
  return sql.rows<{ id: string; type: string }>(
    `DELETE FROM tasks WHERE status = ANY ($1::text[]) AND status <> 'pending' AND status <> 'running'
     RETURNING id, type`,
    [statuses],
  );
}
