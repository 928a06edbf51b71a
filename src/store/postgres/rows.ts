import type {
  JsonObject,
  JsonValue,
  LogLevel,
  Task,
  TaskLog,
  TaskStatus,
} from '../../domain/task.js';

/**
 * Timestamps leave the database already as ISO-8601 UTC strings and JSON as its stored text, so
 * the result never depends on pg's global type parsers or the session's DateStyle/TimeZone.
 */
export const iso = (column: string): string =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** A `tasks` row as the queries below select it. */
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

export const TASK_COLUMNS = `id, type, status, progress, message, config::text AS config,
  result::text AS result, error_message, priority, attempts, max_attempts, owner, claim_token, version,
  ${iso('created_at')} AS created_at, ${iso('started_at')} AS started_at,
  ${iso('completed_at')} AS completed_at, ${iso('updated_at')} AS updated_at`;

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

export const LOG_COLUMNS = `task_id, seq, ${iso('"time"')} AS "time", level, message`;

export const toLog = (row: LogRow): TaskLog => ({ ...row });

/**
 * PostgreSQL text cannot hold NUL; free text (executor messages, errors, log lines) may contain
 * it. Replace it rather than fail the write — a failed finish would leave the lane blocked.
 * JSON is unaffected: JSON.stringify escapes NUL as \u0000, which the json type keeps.
 */
export const pgText = (value: string): string => value.replaceAll('\u0000', '\uFFFD');
export const pgTextOrNull = (value: string | null | undefined): string | null =>
  value === null || value === undefined ? null : pgText(value);

export const toJsonText = (value: JsonValue | null | undefined): string | null =>
  value === undefined || value === null ? null : JSON.stringify(value);
