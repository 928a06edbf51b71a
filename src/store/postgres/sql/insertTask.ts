import { newTaskId } from '../../../domain/ids.js';
import type { Task } from '../../../domain/task.js';
import type { NewTask } from '../../store.js';
import { LANE_CHANNEL } from '../channels.js';
import type { Sql } from '../database.js';
import { TASK_COLUMNS, toTask, type TaskRow } from '../rows.js';

/** A new task joins the tail of its lane: queue_seq comes from a sequence, so it is never reused. */
export async function insertTask(sql: Sql, input: NewTask): Promise<Task> {
  const [row] = await sql.rows<TaskRow>(
    `INSERT INTO tasks (id, type, status, config, priority, max_attempts)
     VALUES ($1, $2, 'pending', $3::json, $4, $5)
     RETURNING ${TASK_COLUMNS}, pg_notify('${LANE_CHANNEL}', type) AS notified`,
    [newTaskId(), input.type, JSON.stringify(input.config), input.priority, input.max_attempts],
  );
  return toTask(row!);
}
