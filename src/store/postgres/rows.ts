import type { JsonValue } from '../../domain/task.js';

export { toLog, toTask, type LogRow, type TaskRow } from '../rows.js';

/**
 * Timestamps leave the database already as ISO-8601 UTC strings and JSON as its stored text, so
 * the result never depends on pg's global type parsers or the session's DateStyle/TimeZone.
 */
export const iso = (column: string): string =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

export const TASK_COLUMNS = `id, type, status, progress, message, config::text AS config,
  result::text AS result, error_message, priority, attempts, max_attempts, owner, claim_token, version,
  ${iso('created_at')} AS created_at, ${iso('started_at')} AS started_at,
  ${iso('completed_at')} AS completed_at, ${iso('updated_at')} AS updated_at`;

export const LOG_COLUMNS = `task_id, seq, ${iso('"time"')} AS "time", level, message`;

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
