import { newTaskId } from '../../../domain/ids.js';
import type { Task } from '../../../domain/task.js';
import type { NewTask } from '../../store.js';
import { LANE_CHANNEL } from '../channels.js';
import type { PgDb } from '../database.js';
import { TASK_COLUMNS, toTask, type TaskRow } from '../rows.js';

/**
 * New tasks join the tail of their lanes in the given order: queue_seq comes from a sequence
 * (never reused), drawn row by row in that order. One statement for the whole batch, which
 * announces each lane that got work once.
 */
export async function insertTasks(db: PgDb, inputs: readonly NewTask[]): Promise<Task[]> {
  const rows = await db.prepared<TaskRow>(
    'tailor_insert_tasks',
    `WITH added AS (
       INSERT INTO tasks (id, type, status, config, priority, max_attempts)
       SELECT n.id, n.type, 'pending', n.config::json, n.priority, n.max_attempts
         FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[])
              WITH ORDINALITY AS n (id, type, config, priority, max_attempts, position)
        ORDER BY n.position
       RETURNING ${TASK_COLUMNS}, seq),
     announced AS (
       SELECT count(pg_notify('${LANE_CHANNEL}', lane.type)) AS lanes
         FROM (SELECT DISTINCT type FROM added) AS lane)
     SELECT added.* FROM added, announced ORDER BY added.seq`,
    [
      inputs.map(() => newTaskId()),
      inputs.map((input) => input.type),
      inputs.map((input) => JSON.stringify(input.config)),
      inputs.map((input) => input.priority),
      inputs.map((input) => input.max_attempts),
    ],
  );
  return rows.map(toTask);
}
