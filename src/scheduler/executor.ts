import type { JsonObject, JsonValue, LogLevel, Task } from '../domain/task.js';

/**
 * The contract between the scheduler and an executor (one folder each under `src/executors`).
 *
 *   registry.register({ type: 'resize', schema, run: async (ctx) => result })
 *
 * `schema` is a JSON Schema (TypeBox produces one) that validates `config` when a task is
 * created, so a bad config is a 400 naming the field instead of a failure at run time.
 */
export interface ExecutorDefinition<Config extends JsonObject = JsonObject> {
  type: string;
  /** One line for the API and console. */
  description?: string;
  schema: object;
  /**
   * Turns what a client sent into the config to validate, on every node, before validation —
   * e.g. a stored generation config's id (plus overrides) into its fields. A `TailorError`
   * refuses the task (404 for a missing stored config).
   */
  prepare?: (input: unknown) => Promise<unknown>;
  /**
   * Checks run at creation after validation, before anything is queued — e.g. the WebUI is
   * reachable. Throw a `TailorError` (503 for an unreachable dependency) to refuse the task.
   */
  precheck?: (config: Config, deps: ExecutorDeps) => Promise<void>;
  run: (ctx: ExecutorContext<Config>) => Promise<JsonValue | void>;
  /** The type's configuration keys as `/api/task-types` shows them (secret values never). */
  settings?: readonly PublicSetting[];
}

export interface PublicSetting {
  /** The config-file key (camelCase). */
  key: string;
  env: string;
  description: string;
  secret: boolean;
  /** Whether a value is configured (a default counts). */
  set: boolean;
  /** The value in force; always null for a secret. */
  value: string | null;
}

export interface ExecutorContext<Config extends JsonObject = JsonObject> {
  task: Task;
  config: Config;
  /** Aborted on stop, cancel, delete, shutdown or lost lease. Honour it promptly. */
  signal: AbortSignal;
  /** 0–100 (clamped; never decreases within an attempt); writes are coalesced. */
  progress(pct: number, message?: string): void;
  /** Persisted task log line, also broadcast; secrets of this task's config are scrubbed. */
  log(level: LogLevel, message: string): void;
  /** This task's own output folder under the data directory, created on first access. */
  readonly outputDir: string;
  http: HttpClient;
}

export interface ExecutorDeps {
  http: HttpClient;
  dataDir: string;
}

/** Shared outgoing HTTP: one connection pool, the configured proxy, timeouts. */
export interface HttpClient {
  fetch(url: string | URL, init?: HttpRequestInit): Promise<Response>;
}

export interface HttpRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  signal?: AbortSignal;
  /** Overrides the client's default response timeout for this request, in ms. */
  timeoutMs?: number;
}

/**
 * Thrown by an executor that fails after producing something worth keeping (images of earlier
 * loops): the task ends `failed` with this message and `result` still lists the partial output.
 */
export class ExecutorFailure extends Error {
  override name = 'ExecutorFailure';

  constructor(
    message: string,
    readonly result: JsonValue,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
