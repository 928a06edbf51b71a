import type { JsonObject, JsonValue, LogLevel, Task, TaskLog, TaskStatus } from '../domain/task.js';

/**
 * A `tasks` row as both stores select it: JSON as its stored text and timestamps already as
 * ISO-8601 UTC strings, so one mapping serves SQLite and PostgreSQL alike.
 */
export interface TaskRow {
  id: string;
  type: string;
  status: TaskStatus;
  progress: number;
  message: string;
  config: string;
  result: string | null;
  error_message: string | null;
  priority: number;
  attempts: number;
  max_attempts: number;
  owner: string | null;
  claim_token: string | null;
  version: number;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  updated_at: string;
}

export function toTask(row: TaskRow): Task {
  return {
    id: row.id,
    type: row.type,
    status: row.status,
    progress: row.progress,
    message: row.message,
    config: JSON.parse(row.config) as JsonObject,
    result: row.result === null ? null : (JSON.parse(row.result) as JsonValue),
    error_message: row.error_message,
    priority: row.priority,
    attempts: row.attempts,
    max_attempts: row.max_attempts,
    owner: row.owner,
    version: row.version,
    created_at: row.created_at,
    started_at: row.started_at,
    completed_at: row.completed_at,
    updated_at: row.updated_at,
  };
}

export interface LogRow {
  task_id: string;
  seq: number;
  time: string;
  level: LogLevel;
  message: string;
}

export const toLog = (row: LogRow): TaskLog => ({ ...row });
