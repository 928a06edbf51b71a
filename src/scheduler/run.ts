import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { scrubSecrets, secretValues } from '../domain/redact.js';
import { clampProgress, type JsonValue, type LogLevel, type Task } from '../domain/task.js';
import type { NewLogLine, Store } from '../store/store.js';
import type { TaskEvents } from './events.js';
import {
  ExecutorFailure,
  type ExecutorContext,
  type ExecutorDefinition,
  type HttpClient,
} from './executor.js';

/** Why a run was asked to stop before its executor returned. */
export type StopReason =
  { kind: 'cancel'; message: string } | { kind: 'shutdown' } | { kind: 'lease-lost' };

/** How a run ends; the scheduler turns it into one fenced write batched with the next claims. */
export type RunOutcome =
  | {
      kind: 'finish';
      status: 'completed' | 'failed' | 'cancelled';
      result: JsonValue | null;
      error: string | null;
      /** What the task's message says from now on: what happened, not the last progress line. */
      message: string;
    }
  | { kind: 'release'; message: string }
  | { kind: 'abandon' };

export interface RunEnvironment {
  store: Store;
  events: TaskEvents;
  logger: Logger;
  http: HttpClient;
  outputsRoot: string;
  graceMs: number;
  progressIntervalMs: number;
  logFlushMs: number;
  /** Apply the outcome (fenced) and resolve once it is committed. */
  finalize(run: Run, outcome: RunOutcome): Promise<void>;
}

const MAX_LOG_LINE = 16 * 1024;
const MAX_BUFFERED_LOG_LINES = 10_000;
const LOG_BATCH = 200;

type Settlement =
  { ok: true; value: unknown } | { ok: false; error: unknown } | { graceExpired: true };

/**
 * One attempt of one task in this process. Every store write of the attempt goes through one
 * promise chain, so its events leave in commit order and the final status always comes after the
 * last progress and log line.
 */
export class Run {
  readonly task: Task;
  readonly token: string;
  readonly done: Promise<void>;
  /** Made when the executor first reads its signal: most executors of quick tasks never do. */
  private controller: AbortController | null = null;
  private readonly secrets: string[];
  private stopReason: StopReason | null = null;
  private settled = false;
  private graceTimer: NodeJS.Timeout | null = null;
  private writes: Promise<void> = Promise.resolve();
  private resolveDone!: () => void;

  private progressValue = 0;
  private progressMessage = '';
  private progressDirty = false;
  private progressTimer: NodeJS.Timeout | null = null;
  private lastProgressFlush = 0;
  private warnedOvershoot = false;

  private logBuffer: NewLogLine[] = [];
  private logTimer: NodeJS.Timeout | null = null;
  private droppedLogLines = 0;

  constructor(
    claimed: { task: Task; token: string },
    private readonly env: RunEnvironment,
  ) {
    this.task = claimed.task;
    this.token = claimed.token;
    this.secrets = secretValues(claimed.task.config);
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  get id(): string {
    return this.task.id;
  }

  get type(): string {
    return this.task.type;
  }

  get stopping(): StopReason | null {
    return this.stopReason;
  }

  /** The executor has returned (or was given up on); only the final write may be pending. */
  get settledAlready(): boolean {
    return this.settled;
  }

  /** Start the executor. A synchronous throw is a failure like any other, never a blocked lane. */
  start(definition: ExecutorDefinition, config: Task['config']): void {
    let execution: Promise<unknown>;
    try {
      execution = Promise.resolve(definition.run(this.context(config)));
    } catch (error) {
      execution = Promise.reject(error);
    }
    execution.then(
      (value) => this.settle({ ok: true, value }),
      (error: unknown) => this.settle({ ok: false, error }),
    );
  }

  /** Fail before the executor ever ran (config no longer valid, output folder unusable…). */
  failBeforeStart(error: unknown): void {
    void this.settle({ ok: false, error });
  }

  /** Abort the executor; if it has not returned within the grace period, finish without it. */
  stop(reason: StopReason): void {
    if (this.settled) return;
    if (this.stopReason) {
      // A user's cancel outranks a shutdown already under way: the task ends cancelled, not requeued.
      if (this.stopReason.kind === 'shutdown' && reason.kind === 'cancel') this.stopReason = reason;
      return;
    }
    this.stopReason = reason;
    this.controller?.abort(this.abortError());
    this.graceTimer = setTimeout(() => void this.settle({ graceExpired: true }), this.env.graceMs);
  }

  private abortError(): Error {
    const reason = this.stopReason;
    return new Error(reason?.kind === 'cancel' ? reason.message : (reason?.kind ?? 'aborted'));
  }

  private signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.stopReason) this.controller.abort(this.abortError());
    }
    return this.controller.signal;
  }

  log(level: LogLevel, message: string): void {
    if (this.settled) return;
    if (this.logBuffer.length >= MAX_BUFFERED_LOG_LINES) {
      this.droppedLogLines++;
      return;
    }
    let text = scrubSecrets(String(message), this.secrets);
    if (text.length > MAX_LOG_LINE) text = `${text.slice(0, MAX_LOG_LINE)}… (truncated)`;
    this.logBuffer.push({ taskId: this.id, level, message: text, time: new Date().toISOString() });
    if (this.logBuffer.length >= LOG_BATCH) this.flushLogs();
    else this.logTimer ??= setTimeout(() => this.flushLogs(), this.env.logFlushMs);
  }

  private context(config: Task['config']): ExecutorContext {
    const outputDir = join(this.env.outputsRoot, this.id);
    let created = false;
    const signal = (): AbortSignal => this.signal();
    return {
      task: this.task,
      config,
      get signal() {
        return signal();
      },
      progress: (pct, message) => this.progress(pct, message),
      log: (level, message) => this.log(level, message),
      get outputDir() {
        if (!created) {
          mkdirSync(outputDir, { recursive: true });
          created = true;
        }
        return outputDir;
      },
      http: this.env.http,
    };
  }

  private progress(pct: number, message?: string): void {
    if (this.settled) return;
    if (pct > 100 && !this.warnedOvershoot) {
      // An overshooting executor (several generation loops) used to have its
      // updates dropped. It is clamped instead, and the executor's author is told once.
      this.warnedOvershoot = true;
      this.log('warn', `progress ${pct} is above 100; clamped to 100`);
    }
    this.progressValue = Math.max(this.progressValue, clampProgress(pct));
    if (message !== undefined)
      this.progressMessage = scrubSecrets(String(message), this.secrets).slice(0, 1000);
    this.progressDirty = true;
    if (this.progressTimer) return;
    const wait = Math.max(0, this.lastProgressFlush + this.env.progressIntervalMs - Date.now());
    this.progressTimer = setTimeout(() => this.flushProgress(), wait);
  }

  private chain(write: () => Promise<void>): void {
    this.writes = this.writes.then(write).catch((error: unknown) => {
      this.env.logger.error({ err: error, task_id: this.id }, 'task write failed');
    });
  }

  private flushProgress(): void {
    if (this.progressTimer) clearTimeout(this.progressTimer);
    this.progressTimer = null;
    if (!this.progressDirty) return;
    this.progressDirty = false;
    this.lastProgressFlush = Date.now();
    const update = {
      taskId: this.id,
      token: this.token,
      progress: this.progressValue,
      message: this.progressMessage,
    };
    this.chain(async () => {
      for (const task of await this.env.store.updateProgress([update])) {
        this.env.events.publish({ kind: 'status', task });
      }
    });
  }

  private flushLogs(): void {
    if (this.logTimer) clearTimeout(this.logTimer);
    this.logTimer = null;
    if (this.droppedLogLines > 0) {
      this.logBuffer.push({
        taskId: this.id,
        level: 'warn',
        message: `${this.droppedLogLines} log lines dropped: the executor logged faster than they could be stored`,
      });
      this.droppedLogLines = 0;
    }
    if (this.logBuffer.length === 0) return;
    const lines = this.logBuffer;
    this.logBuffer = [];
    this.chain(async () => {
      for (const log of await this.env.store.appendLogs(lines)) {
        this.env.events.publish({ kind: 'log', log });
      }
    });
  }

  private async settle(settlement: Settlement): Promise<void> {
    if (this.settled) {
      if (!('graceExpired' in settlement)) {
        this.env.logger.warn(
          { task_id: this.id },
          'executor returned after its task was finished; result ignored',
        );
      }
      return;
    }
    if ('graceExpired' in settlement) {
      this.log(
        'warn',
        `executor did not stop within ${this.env.graceMs} ms of being aborted; finishing without it`,
      );
    } else if (!settlement.ok && !this.stopReason) {
      this.log('error', describeError(settlement.error, this.secrets));
    }
    this.settled = true;
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.flushProgress();
    this.flushLogs();
    await this.writes;
    try {
      await this.env.finalize(this, this.outcome(settlement));
    } finally {
      this.resolveDone();
    }
  }

  private outcome(settlement: Settlement): RunOutcome {
    const reason = this.stopReason;
    if (reason?.kind === 'lease-lost') return { kind: 'abandon' };
    if (reason?.kind === 'shutdown')
      return { kind: 'release', message: 'requeued: the server shut down' };
    const value = 'ok' in settlement && settlement.ok ? settlement.value : undefined;
    let result: JsonValue | null;
    try {
      // An executor may echo what it was given (a cookie, a proxy URL) into its result, which is
      // stored and returned by the API: scrub it like a log line.
      result = scrubJson(toJson(value), this.secrets);
    } catch {
      const error = 'executor returned a result that is not JSON';
      return { kind: 'finish', status: 'failed', result: null, error, message: `failed: ${error}` };
    }
    if (reason?.kind === 'cancel') {
      // Where it was when it stopped is worth keeping: "stopped by user at batch 1/2 · step 36/60".
      const at = this.progressMessage.replace(/\s*·?\s*eta [^·]*$/i, '').trim();
      return {
        kind: 'finish',
        status: 'cancelled',
        result,
        error: reason.message,
        message: at ? `${reason.message} at ${at}` : reason.message,
      };
    }
    if ('ok' in settlement && !settlement.ok) {
      // An ExecutorFailure keeps what the executor produced before it failed.
      const partial =
        settlement.error instanceof ExecutorFailure ? safeJson(settlement.error.result) : null;
      const error = describeError(settlement.error, this.secrets);
      return {
        kind: 'finish',
        status: 'failed',
        result: partial,
        error,
        message: `failed: ${error}`.slice(0, 1000),
      };
    }
    return { kind: 'finish', status: 'completed', result, error: null, message: summaryOf(result) };
  }
}

/** A completed task's message: the result's own `summary` line when the executor gives one. */
function summaryOf(result: JsonValue | null): string {
  if (result !== null && typeof result === 'object' && !Array.isArray(result)) {
    const summary = result.summary;
    if (typeof summary === 'string' && summary.trim()) return summary.trim().slice(0, 1000);
  }
  return 'done';
}

function safeJson(value: unknown): JsonValue | null {
  try {
    return toJson(value);
  } catch {
    return null;
  }
}

function toJson(value: unknown): JsonValue | null {
  if (value === undefined || value === null) return null;
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}

function scrubJson(value: JsonValue | null, secrets: readonly string[]): JsonValue | null {
  if (typeof value === 'string') return scrubSecrets(value, secrets);
  if (Array.isArray(value)) return value.map((item) => scrubJson(item, secrets));
  if (value !== null && typeof value === 'object') {
    // fromEntries defines own keys, so a `__proto__` key in a result stays data.
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, scrubJson(item, secrets)]),
    ) as JsonValue;
  }
  return value;
}

function describeError(error: unknown, secrets: readonly string[]): string {
  const text = error instanceof Error ? error.message || error.name : String(error);
  return scrubSecrets(text, secrets).slice(0, 4000) || 'executor failed';
}
