import { TASK_STATUSES, type Task, type TaskStatus } from '../domain/task.js';

/**
 * The payloads of `tailor_event` (written by the triggers of PostgreSQL migration 3). Short keys
 * keep them far below NOTIFY's 8000-byte limit; config and result never travel.
 *
 *   c / s   a task was created / changed: id, type, version, and (unless the payload would have
 *           been too long) the fields a `task_status` shows
 *   l       log lines `a`..`b` (seq, inclusive) were appended to task `id`
 *   d       task `id` of type `t` was deleted
 *
 * Every payload names the schema (`s`) — notifications are database-wide and several clusters
 * may share one database — and its origin (`n`), the writing store's `tailor.origin`.
 */
export type ClusterEvent =
  | {
      kind: 'created' | 'status';
      schema: string;
      origin: string;
      id: string;
      type: string;
      version: number;
      fields: StatusFields | null;
    }
  | { kind: 'log'; schema: string; origin: string; id: string; firstSeq: number; lastSeq: number }
  | { kind: 'deleted'; schema: string; origin: string; id: string; type: string };

/** What a status payload carries of the task, as of its `version`. */
export type StatusFields = Pick<
  Task,
  | 'status'
  | 'progress'
  | 'message'
  | 'error_message'
  | 'attempts'
  | 'started_at'
  | 'completed_at'
  | 'updated_at'
>;

const STATUSES = new Set<string>(TASK_STATUSES);

/** Null for anything malformed: a stray NOTIFY on our channel must not break the bridge. */
export function parseClusterEvent(payload: string): ClusterEvent | null {
  let raw: unknown;
  try {
    raw = JSON.parse(payload);
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null) return null;
  const p = raw as Record<string, unknown>;
  const schema = p.s;
  const origin = p.n;
  const id = p.id;
  if (typeof schema !== 'string' || typeof origin !== 'string' || typeof id !== 'string')
    return null;
  switch (p.k) {
    case 'c':
    case 's': {
      if (typeof p.t !== 'string' || !isInt(p.v)) return null;
      return {
        kind: p.k === 'c' ? 'created' : 'status',
        schema,
        origin,
        id,
        type: p.t,
        version: p.v,
        fields: statusFields(p),
      };
    }
    case 'l':
      if (!isInt(p.a) || !isInt(p.b) || p.a < 1 || p.b < p.a) return null;
      return { kind: 'log', schema, origin, id, firstSeq: p.a, lastSeq: p.b };
    case 'd':
      if (typeof p.t !== 'string') return null;
      return { kind: 'deleted', schema, origin, id, type: p.t };
    default:
      return null;
  }
}

function statusFields(p: Record<string, unknown>): StatusFields | null {
  if (typeof p.st !== 'string' || !STATUSES.has(p.st)) return null;
  if (!isInt(p.p) || !isInt(p.a) || typeof p.m !== 'string' || typeof p.ua !== 'string')
    return null;
  return {
    status: p.st as TaskStatus,
    progress: p.p,
    message: p.m,
    error_message: typeof p.e === 'string' ? p.e : null,
    attempts: p.a,
    started_at: typeof p.sa === 'string' ? p.sa : null,
    completed_at: typeof p.ca === 'string' ? p.ca : null,
    updated_at: p.ua,
  };
}

function isInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}
