import type { Task } from '../../../domain/task.js';
import type { Finish } from '../../store.js';
import type { Sql } from '../database.js';
import { pgTextOrNull, TASK_COLUMNS, toJsonText, toTask, type TaskRow } from '../rows.js';

/**
 * running → completed | failed | cancelled, fenced by the claim token: a late write from an
 * executor that was stopped, or from a process that lost its lease, matches no row. One
 * statement for the batch; returns the finishes that applied, in request order.
 */
export async function finishTasks(sql: Sql, finishes: readonly Finish[]): Promise<Task[]> {
  // Applied one after another, only the first finish of an attempt would match; keep just that.
  const first = new Map<string, Finish>();
  for (const finish of finishes) {
    const key = `${finish.taskId}\n${finish.token}`;
    if (!first.has(key)) first.set(key, finish);
  }
  if (first.size === 0) return [];
  const batch = [...first.values()];
  const rows = await sql.rows<TaskRow>(
    `UPDATE tasks
        SET version = version + 1, status = f.outcome, result = f.output::json, error_message = f.error,
            progress = CASE WHEN f.outcome = 'completed' THEN 100 ELSE progress END,
            lease_expires_at = NULL, cancel_requested = false, completed_at = now(), updated_at = now()
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
            AS f (task_id, fence, outcome, output, error)
      WHERE id = f.task_id AND claim_token = f.fence AND status = 'running'
     RETURNING ${TASK_COLUMNS}`,
    [
      batch.map((f) => f.taskId),
      batch.map((f) => f.token),
      batch.map((f) => f.status),
      batch.map((f) => toJsonText(f.result)),
      batch.map((f) => pgTextOrNull(f.errorMessage)),
    ],
  );
  const order = new Map(batch.map((f, i) => [f.taskId, i]));
  return rows.map(toTask).sort((a, b) => order.get(a.id)! - order.get(b.id)!);
}
