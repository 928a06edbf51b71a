import { newTaskId } from '../../../domain/ids.js';
import type { Task } from '../../../domain/task.js';
import type { NewTask } from '../../store.js';
import type { SqliteDb } from '../database.js';
import { TASK_COLUMNS, toTask, type TaskRow } from '../rows.js';

/** A new task joins the tail of its lane: queue_seq is one past every task ever queued. */
export function insertTask(db: SqliteDb, input: NewTask, now: string): Task {
  const row = db
    .stmt(
      `INSERT INTO tasks (id, type, status, config, priority, max_attempts, queue_seq, created_at, updated_at)
       VALUES (?, ?, 'pending', ?, ?, ?, (SELECT COALESCE(MAX(queue_seq), 0) + 1 FROM tasks), ?, ?)
       RETURNING ${TASK_COLUMNS}`,
    )
    .get(
      newTaskId(),
      input.type,
      JSON.stringify(input.config),
      input.priority,
      input.max_attempts,
      now,
      now,
    ) as TaskRow;
  return toTask(row);
}
