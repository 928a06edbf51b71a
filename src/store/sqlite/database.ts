import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { CHECKPOINTER_SOURCE } from './checkpointer.js';

const requireHere = createRequire(import.meta.url);

/** One checkpoint: frames in the WAL, and how many of them are now in the database file. */
export interface WalCheckpoint {
  log: number;
  checkpointed: number;
}

interface QueuedWrite {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** A better-sqlite3 connection with the pragmas this project relies on and a statement cache. */
export class SqliteDb {
  readonly raw: Database.Database;
  private readonly statements = new Map<string, Statement>();

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.raw = new Database(file);
    // WAL + synchronous=NORMAL: a commit survives the process being killed (SIGKILL), which is
    // the durability the scheduler promises; readers never block the single writer.
    this.raw.pragma('journal_mode = WAL');
    this.raw.pragma('synchronous = NORMAL');
    this.raw.pragma('foreign_keys = ON');
    this.raw.pragma('busy_timeout = 5000');
    // Statement journals (the undo of a statement that fails half-way) only ever roll back
    // within one transaction: keep them in memory instead of temporary files.
    this.raw.pragma('temp_store = MEMORY');
    if (file !== ':memory:') this.checkpointInBackground(file);
  }

  private checkpointer: Worker | null = null;
  private lastCheckpoint: WalCheckpoint | null = null;

  /** What the background checkpointer last reported; null while it has reported nothing. */
  get backgroundCheckpoint(): WalCheckpoint | null {
    return this.lastCheckpoint;
  }

  /** See `checkpointer.ts`. Should the worker fail, SQLite's own checkpoints take over again. */
  private checkpointInBackground(file: string): void {
    try {
      this.checkpointer = new Worker(CHECKPOINTER_SOURCE, {
        eval: true,
        workerData: { file, intervalMs: 100, driver: requireHere.resolve('better-sqlite3') },
      });
    } catch {
      return;
    }
    this.checkpointer.unref();
    this.checkpointer.on('message', (report: string) => {
      this.lastCheckpoint = JSON.parse(report) as WalCheckpoint;
    });
    this.checkpointer.on('error', (error) => {
      this.checkpointer = null;
      // Closed before the worker got going (its file may be gone): nothing left to checkpoint.
      if (!this.raw.open) return;
      // Loud, not silent: inline checkpoints stall a commit every ~1,000 WAL pages.
      process.emitWarning(
        `SQLite background checkpointer failed (${error.message}); checkpoints run inline again`,
      );
      this.raw.pragma('wal_autocheckpoint = 1000');
    });
    this.raw.pragma('wal_autocheckpoint = 0');
  }

  /** Prepared once per SQL text; queries are static strings, so the cache stays small. */
  stmt(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.raw.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** BEGIN IMMEDIATE: take the write lock up front so two processes cannot both read-then-write. */
  transaction<T>(fn: () => T): T {
    return this.raw.transaction(fn).immediate();
  }

  /**
   * Group commit: every write asked for in the same turn of the event loop runs, in order, in
   * one IMMEDIATE transaction, and each promise settles only after that COMMIT — so nothing is
   * acknowledged before it is durable, but the lanes' finishes, claims, creates and log lines of
   * one turn share one commit (and one WAL append) instead of one each. Should one write throw,
   * the group is rolled back and every write is run again in a transaction of its own, so the
   * failing one is undone and rejects alone (writes are SQL only, so running one again is safe).
   */
  batch<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queued.push({ run: fn, resolve: resolve as (value: unknown) => void, reject });
      this.flushScheduled ??= setImmediate(() => this.flush());
    });
  }

  /**
   * Like `batch`, but commit now, together with whatever this turn has queued so far. For a
   * caller that already gathered a turn's work itself (the scheduler's pump): waiting another
   * turn would only add latency.
   */
  batchNow<T>(fn: () => T): Promise<T> {
    const result = this.batch(fn);
    this.flush();
    return result;
  }

  private queued: QueuedWrite[] = [];
  private flushScheduled: NodeJS.Immediate | null = null;

  private flush(): void {
    if (this.flushScheduled) clearImmediate(this.flushScheduled);
    this.flushScheduled = null;
    const writes = this.queued;
    this.queued = [];
    if (writes.length === 0) return;
    let values: unknown[];
    try {
      values = this.transaction(() => writes.map((write) => write.run()));
    } catch (error) {
      if (writes.length === 1) {
        writes[0]!.reject(error);
        return;
      }
      // Nothing of the group landed: find the culprit by running each write on its own.
      for (const write of writes) {
        try {
          write.resolve(this.transaction(write.run));
        } catch (alone) {
          write.reject(alone);
        }
      }
      return;
    }
    writes.forEach((write, i) => write.resolve(values[i]));
  }

  /**
   * Commit what is queued, close, and wait for the checkpointer to close its own connection: once
   * this resolves nothing touches the database files any more (they may be moved or deleted).
   */
  async close(): Promise<void> {
    this.flush();
    this.raw.close();
    const checkpointer = this.checkpointer;
    this.checkpointer = null;
    if (!checkpointer) return;
    const exited = new Promise<void>((resolve) => checkpointer.once('exit', () => resolve()));
    checkpointer.postMessage('stop');
    // It stops between two checkpoints; one that hangs is ended rather than waited for.
    const timer = setTimeout(() => void checkpointer.terminate(), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
