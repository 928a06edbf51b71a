import type { TaskLog } from '../../../domain/task.js';
import type { NewLogLine } from '../../store.js';
import type { Sql, Transaction } from '../database.js';
import { LOG_COLUMNS, pgText, toLog, type LogRow } from '../rows.js';

/** Advisory-lock class of per-task log appenders (two-int4 form, apart from the other locks). */
const LOG_LOCK_CLASS = 7_318;

/**
 * Each line takes the next seq of its task; lines of a task deleted meanwhile are dropped.
 *
 * Two connections appending to one task must not both read the same MAX(seq): appenders of a
 * task take a transaction advisory lock on it (in one sorted sweep, so batches spanning several
 * tasks cannot deadlock). Not a row lock on the task: that would make a claimer skip a pending
 * task that happens to be logging. The task rows are then held with KEY SHARE — the lock the
 * foreign key would take anyway — so a concurrent delete either happens first (lines dropped)
 * or waits for this commit (lines deleted with the task).
 */
export async function appendLogs(
  tx: Transaction,
  lines: readonly NewLogLine[],
): Promise<TaskLog[]> {
  const taskIds = [...new Set(lines.map((line) => line.taskId))].sort();
  await tx.rows(
    `SELECT count(pg_advisory_xact_lock(${LOG_LOCK_CLASS}, key))
       FROM (SELECT DISTINCT hashtext(task_id) AS key FROM unnest($1::text[]) AS t (task_id) ORDER BY key) AS keys`,
    [taskIds],
  );
  const live = await tx.rows<{ id: string; last: number | null }>(
    `SELECT id, (SELECT max(seq) FROM task_logs WHERE task_id = tasks.id) AS last
       FROM tasks WHERE id = ANY ($1::text[]) ORDER BY id FOR KEY SHARE`,
    [taskIds],
  );
  const nextSeq = new Map(live.map((row) => [row.id, row.last ?? 0]));
  const kept: {
    taskId: string;
    seq: number;
    time: string | null;
    level: string;
    message: string;
  }[] = [];
  for (const line of lines) {
    const last = nextSeq.get(line.taskId);
    if (last === undefined) continue;
    nextSeq.set(line.taskId, last + 1);
    kept.push({ ...line, seq: last + 1, time: line.time ?? null, message: pgText(line.message) });
  }
  if (kept.length === 0) return [];
  const rows = await tx.rows<LogRow>(
    `INSERT INTO task_logs (task_id, seq, time, level, message)
     SELECT l.task_id, l.seq, COALESCE(l."time", now()), l.level, l.message
       FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::text[], $5::text[])
            AS l (task_id, seq, "time", level, message)
     RETURNING ${LOG_COLUMNS}`,
    [
      kept.map((l) => l.taskId),
      kept.map((l) => l.seq),
      kept.map((l) => l.time),
      kept.map((l) => l.level),
      kept.map((l) => l.message),
    ],
  );
  const position = new Map(kept.map((l, i) => [`${l.taskId}\n${l.seq}`, i]));
  return rows
    .map(toLog)
    .sort(
      (a, b) => position.get(`${a.task_id}\n${a.seq}`)! - position.get(`${b.task_id}\n${b.seq}`)!,
    );
}

export async function listLogs(
  sql: Sql,
  taskId: string,
  afterSeq: number,
  limit: number,
): Promise<TaskLog[]> {
  const rows = await sql.rows<LogRow>(
    `SELECT ${LOG_COLUMNS} FROM task_logs WHERE task_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
    [taskId, afterSeq, limit],
  );
  return rows.map(toLog);
}
