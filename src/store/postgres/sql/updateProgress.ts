import { clampProgress, type Task } from '../../../domain/task.js';
import type { ProgressUpdate } from '../../store.js';
import type { Sql } from '../database.js';
import { pgText, TASK_COLUMNS, toTask, type TaskRow } from '../rows.js';

/**
 * Progress never decreases within one attempt; the message always takes the latest line. One
 * statement for the whole batch; several updates of one task are merged first (highest progress,
 * last message), as applying them in turn would give.
 */
export async function updateProgress(
  sql: Sql,
  updates: readonly ProgressUpdate[],
): Promise<Task[]> {
  const merged = new Map<string, ProgressUpdate>();
  for (const update of updates) {
    const key = `${update.taskId}\n${update.token}`;
    const earlier = merged.get(key);
    const progress = clampProgress(update.progress);
    merged.set(key, {
      ...update,
      progress: earlier ? Math.max(earlier.progress, progress) : progress,
      message: pgText(update.message),
    });
  }
  if (merged.size === 0) return [];
  const batch = [...merged.values()];
  const rows = await sql.rows<TaskRow>(
    `UPDATE tasks
        SET version = version + 1, progress = GREATEST(progress, u.pct), message = u.line,
            updated_at = now()
       FROM unnest($1::text[], $2::text[], $3::int[], $4::text[]) AS u (task_id, fence, pct, line)
      WHERE id = u.task_id AND claim_token = u.fence AND status = 'running'
     RETURNING ${TASK_COLUMNS}`,
    [
      batch.map((u) => u.taskId),
      batch.map((u) => u.token),
      batch.map((u) => u.progress),
      batch.map((u) => u.message),
    ],
  );
  return rows.map(toTask);
}
