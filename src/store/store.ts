import type {
  JsonObject,
  JsonValue,
  LogLevel,
  Task,
  TaskLog,
  TaskStatus,
  TerminalStatus,
} from '../domain/task.js';

/**
 * The one storage interface. SQLite (`store/sqlite`) and PostgreSQL (`store/postgres`) implement
 * it, and both must pass the conformance suite in `test/store/conformance.ts`.
 *
 * The database is the queue: pending rows are the lanes, and every lifecycle change is a single
 * conditional statement or one transaction. The lane invariant — at most one `running` task per
 * type — is a partial unique index, so it holds across every process sharing the database even if
 * the scheduler above has a bug.
 */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';

  /** Apply pending numbered migrations; safe when several processes start at once. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Round-trip to the database, for `/health`. */
  ping(): Promise<void>;

  createTask(input: NewTask): Promise<Task>;
  getTask(id: string): Promise<Task | null>;
  /** Newest first; `total` counts every row matching the filter. */
  listTasks(query: ListQuery): Promise<{ tasks: Task[]; total: number }>;

  /**
   * One transaction: apply the fenced finishes, then claim the head of every requested lane that
   * has no running task (a lane freed by one of the finishes counts as free), writing each claimed
   * attempt's first log line. Finishing and claiming together is what lets one commit hand every
   * lane to its next task.
   */
  finishAndClaim(request: FinishAndClaim): Promise<FinishAndClaimResult>;

  /**
   * running → pending at the task's original lane position, without spending an attempt: the
   * process is shutting down, which is not the task's fault. Fenced like a finish.
   */
  release(releases: readonly Release[]): Promise<Task[]>;

  /** Fenced, monotonic progress writes; returns the rows that changed. */
  updateProgress(updates: readonly ProgressUpdate[]): Promise<Task[]>;

  /**
   * Extend the lease of every running task claimed by `owner.instance`. Returns what the owner
   * should know: the tasks it still holds, and which of them someone asked to cancel.
   */
  renewLeases(owner: Owner, leaseMs: number): Promise<LeaseReport>;

  /**
   * Recover running rows whose owner is gone: rows whose lease has expired, and rows of
   * `owner.node` claimed by an earlier instance of that node (a restart). Each goes back to its
   * original lane position while `attempts < max_attempts`, else `failed`; a row whose cancel was
   * requested becomes `cancelled`.
   */
  recoverOrphans(owner: Owner): Promise<RecoveryResult>;

  /** pending → cancelled. Null when the task is not pending (the caller decides what that means). */
  cancelPending(id: string, reason: string): Promise<Task | null>;
  /** Mark a running task for cancellation (durable, so crash recovery honours it). */
  requestCancel(id: string): Promise<Task | null>;
  /** terminal → pending at the tail of its lane, with attempts, progress, result and error reset. */
  rerun(id: string): Promise<Task | null>;
  /** Delete one task unless it is running; returns whether a row was deleted. */
  deleteTask(id: string): Promise<'deleted' | 'running' | 'missing'>;
  /** Delete every task in the given terminal statuses; returns what was deleted. */
  cleanup(statuses: readonly TerminalStatus[]): Promise<{ id: string; type: string }[]>;

  /** Append log lines; each gets the next `seq` of its task. Lines of deleted tasks are dropped. */
  appendLogs(lines: readonly NewLogLine[]): Promise<TaskLog[]>;
  listLogs(taskId: string, afterSeq: number, limit: number): Promise<TaskLog[]>;

  /** Plain SQL in this store's dialect, for the tables executor modules own. */
  moduleSql(): ModuleSql;
}

export interface NewTask {
  type: string;
  config: JsonObject;
  priority: number;
  max_attempts: number;
}

export interface ListQuery {
  page: number;
  pageSize: number;
  status?: TaskStatus | undefined;
  type?: string | undefined;
}

/** Who claims: `node` is stable across restarts (shown to users); `instance` is one process. */
export interface Owner {
  node: string;
  instance: string;
}

export interface ClaimedTask {
  task: Task;
  /** Fences every later write of this attempt. */
  token: string;
  /** The attempt's first log line (`startedAttemptMessage`), written in the claiming transaction. */
  log: TaskLog;
}

export interface Finish {
  taskId: string;
  token: string;
  status: TerminalStatus;
  result?: JsonValue | null;
  errorMessage?: string | null;
  /** What the task's message says once it has ended; omitted or null keeps the last one. */
  message?: string | null;
}

export interface Release {
  taskId: string;
  token: string;
  message: string;
}

export interface FinishAndClaim {
  finishes: readonly Finish[];
  claim?: { types: readonly string[]; owner: Owner; leaseMs: number };
}

export interface FinishAndClaimResult {
  /** Finishes that applied (the others lost their fence and changed nothing). */
  finished: Task[];
  claimed: ClaimedTask[];
}

export interface ProgressUpdate {
  taskId: string;
  token: string;
  progress: number;
  message: string;
}

export interface LeaseReport {
  held: string[];
  cancelRequested: string[];
}

export interface RecoveryResult {
  requeued: Task[];
  failed: Task[];
  cancelled: Task[];
}

export interface NewLogLine {
  taskId: string;
  level: LogLevel;
  message: string;
  time?: string;
}

export const INTERRUPTED_MESSAGE = 'interrupted: the process running it stopped';

/** A parameter of a module's SQL statement. */
export type SqlParam = string | number | boolean | null;

/**
 * How executor modules reach their own tables (generation configs, crawl history…). Statements are
 * written per dialect: `?` placeholders for SQLite, `$1…` for PostgreSQL. JSON columns are text.
 */
export interface ModuleSql {
  readonly dialect: 'sqlite' | 'postgres';
  /** The rows one statement returns (none for a statement without RETURNING). */
  rows<Row extends object>(sql: string, params?: readonly SqlParam[]): Promise<Row[]>;
  /**
   * Apply a module's numbered migrations that this database has not seen, each once, under the
   * store's migration lock; `module` keeps their numbers apart from other modules' and the core's.
   */
  migrate(module: string, migrations: readonly ModuleMigration[]): Promise<void>;
}

/** Numbered, append-only, never edited once released — like the core's own migrations. */
export interface ModuleMigration {
  version: number;
  name: string;
  sql: string;
}
