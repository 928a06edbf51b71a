/**
 * The task model and its lifecycle, stated once for the whole project.
 *
 * Allowed transitions. Every state change anywhere in the code base is one of these;
 * the store enforces each one with a conditional write (`WHERE status = …`), so a racing writer
 * loses instead of corrupting:
 *
 *   create                      —                      → pending
 *   claim      (scheduler)      pending                → running     only if its lane has no running task
 *   finish     (executor)       running                → completed | failed   fenced by claim token
 *   stop                        running                → cancelled   executor aborted first
 *   cancel                      pending | running      → cancelled
 *   rerun      (task/start)     completed|failed|cancelled → pending  attempts, progress, error reset
 *   recover    (lease lost)     running                → pending (attempts < max) | failed | cancelled
 *   delete / cleanup            any / terminal         → (gone)
 *
 * A terminal status is final for its attempt: writes carry the claim token minted when the task
 * was claimed, and a token that no longer matches a running row changes nothing.
 */

export const TASK_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const TERMINAL_STATUSES = ['completed', 'failed', 'cancelled'] as const;
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface Task {
  id: string;
  type: string;
  status: TaskStatus;
  progress: number;
  message: string;
  config: JsonObject;
  result: JsonValue | null;
  error_message: string | null;
  priority: number;
  attempts: number;
  max_attempts: number;
  /** Node that runs (or last ran) the task; null while it has never been claimed. */
  owner: string | null;
  /** Increases with every visible change, so a reader can order a snapshot against events. */
  version: number;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  updated_at: string;
}

export interface TaskLog {
  task_id: string;
  seq: number;
  time: string;
  level: LogLevel;
  message: string;
}

export const DEFAULT_PRIORITY = 0;
export const DEFAULT_MAX_ATTEMPTS = 2;
export const MAX_PROGRESS = 100;

export function isTerminal(status: TaskStatus): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

export function isTaskStatus(value: unknown): value is TaskStatus {
  return typeof value === 'string' && (TASK_STATUSES as readonly string[]).includes(value);
}

/** Which user actions a status permits; the HTTP layer maps a refusal to 409. */
export const ACTION_FROM: Readonly<
  Record<'stop' | 'cancel' | 'rerun' | 'cleanup', readonly TaskStatus[]>
> = {
  stop: ['running'],
  cancel: ['pending', 'running'],
  rerun: ['completed', 'failed', 'cancelled'],
  cleanup: TERMINAL_STATUSES,
};

/**
 * The first log line of every attempt. The store writes it in the transaction that claims the
 * task, so a task's log always says where each attempt ran, even if the process died at once.
 */
export function startedAttemptMessage(attempt: number, maxAttempts: number, node: string): string {
  return `started attempt ${attempt} of ${maxAttempts} on ${node}`;
}

/** Clamp a reported percentage into 0–100 (an executor counting loops may overshoot). */
export function clampProgress(pct: number): number {
  if (!Number.isFinite(pct)) return 0;
  return Math.max(0, Math.min(MAX_PROGRESS, Math.round(pct)));
}

/** Task ids are opaque and URL-safe; anything else is refused before it reaches a query or a path. */
export const TASK_ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
const TASK_ID_RE = new RegExp(TASK_ID_PATTERN);
export function isTaskId(value: unknown): value is string {
  return typeof value === 'string' && TASK_ID_RE.test(value);
}

/** Task type names double as lane names and folder names, so they are kept simple. */
export const TASK_TYPE_PATTERN = '^[a-z][a-z0-9_-]{0,31}$';
