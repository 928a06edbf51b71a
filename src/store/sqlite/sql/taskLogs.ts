import type { TaskLog } from '../../../domain/task.js';
import type { NewLogLine } from '../../store.js';
import type { SqliteDb } from '../database.js';
import { toLog, type LogRow } from '../rows.js';

/** Each line takes the next seq of its task; lines of a task deleted meanwhile are dropped. */
export function appendLog(db: SqliteDb, line: NewLogLine, now: string): TaskLog | null {
  const row = db
    .stmt(
      `INSERT INTO task_logs (task_id, seq, time, level, message)
       SELECT ?, COALESCE((SELECT MAX(seq) FROM task_logs WHERE task_id = ?), 0) + 1, ?, ?, ?
        WHERE EXISTS (SELECT 1 FROM tasks WHERE id = ?)
       RETURNING task_id, seq, time, level, message`,
    )
    .get(line.taskId, line.taskId, line.time ?? now, line.level, line.message, line.taskId) as
    LogRow | undefined;
  return row ? toLog(row) : null;
}

export function listLogs(db: SqliteDb, taskId: string, afterSeq: number, limit: number): TaskLog[] {
  const rows = db
    .stmt(
      `SELECT task_id, seq, time, level, message FROM task_logs
        WHERE task_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
    )
    .all(taskId, afterSeq, limit) as LogRow[];
  return rows.map(toLog);
}
