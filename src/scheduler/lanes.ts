/**
 * The lane engine: one FIFO lane per task type, same type serial, different types concurrent.
 * User actions (create, stop, cancel, delete…) live in the task service (`tasks.ts`); this module
 * claims, launches, finishes, renews leases and recovers.
 *
 * Lane invariant: at most one `running` task per type across every process sharing the
 * database. The store enforces it (partial unique index + conditional claim); this module never
 * relies on in-memory state for it — `runs` only tracks which executors this process is driving.
 *
 * Flow: create → commit → wake(type). The pump batches every queued finish together with a
 * claim attempt for each dirty lane into one transaction (`finishAndClaim`), so a finishing task
 * hands its lane to the next one in the same commit and every idle lane starts at once; no
 * polling is involved. A slow safety poll recovers orphaned rows (expired leases) and re-wakes
 * all lanes in case a signal from another process was missed.
 */
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { ErrorCode, TailorError } from '../domain/errors.js';
import type { JsonObject } from '../domain/task.js';
import type { ClaimedTask, Finish, Owner, Release, Store } from '../store/store.js';
import type { TaskEvents } from './events.js';
import type { HttpClient } from './executor.js';
import type { ExecutorRegistry } from './registry.js';
import { Run, type RunOutcome } from './run.js';

export interface LaneEngineOptions {
  store: Store;
  registry: ExecutorRegistry;
  events: TaskEvents;
  logger: Logger;
  owner: Owner;
  http: HttpClient;
  dataDir: string;
  /** A running task whose lease is not renewed for this long is recovered by any process. */
  leaseMs?: number;
  heartbeatMs?: number;
  /** Safety net only: lanes start on signals, not on this poll. */
  pollMs?: number;
  /** How long an aborted executor may take to return before its task is finished without it. */
  graceMs?: number;
  progressIntervalMs?: number;
  logFlushMs?: number;
}

/** A final write of a run, applied in the next batch; `done` fires once it is committed. */
type Write =
  | { kind: 'finish'; finish: Finish; done: () => void }
  | { kind: 'release'; release: Release; done: () => void };

export class LaneEngine {
  readonly owner: Owner;
  private readonly store: Store;
  private readonly registry: ExecutorRegistry;
  private readonly events: TaskEvents;
  private readonly logger: Logger;
  private readonly http: HttpClient;
  private readonly outputsRoot: string;
  private readonly leaseMs: number;
  private readonly heartbeatMs: number;
  private readonly pollMs: number;
  private readonly graceMs: number;
  private readonly progressIntervalMs: number;
  private readonly logFlushMs: number;

  /** Executors this process is driving, by task id. Never consulted for the lane invariant. */
  private readonly runs = new Map<string, Run>();
  private readonly dirtyLanes = new Set<string>();
  private writes: Write[] = [];
  private pumping = false;
  private pumpScheduled = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private timers: NodeJS.Timeout[] = [];
  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';

  constructor(options: LaneEngineOptions) {
    this.store = options.store;
    this.registry = options.registry;
    this.events = options.events;
    this.logger = options.logger;
    this.owner = options.owner;
    this.http = options.http;
    this.outputsRoot = resolve(options.dataDir, 'outputs');
    this.leaseMs = options.leaseMs ?? 30_000;
    this.heartbeatMs = options.heartbeatMs ?? Math.max(50, Math.floor(this.leaseMs / 3));
    this.pollMs = options.pollMs ?? 5_000;
    this.graceMs = options.graceMs ?? 10_000;
    this.progressIntervalMs = options.progressIntervalMs ?? 250;
    this.logFlushMs = options.logFlushMs ?? 50;
  }

  get running(): boolean {
    return this.state === 'running';
  }

  /** Recover what an earlier instance of this node left running, then open every lane. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error('scheduler already started');
    this.state = 'running';
    await this.recoverOrphans();
    this.timers.push(setInterval(() => void this.heartbeat(), this.heartbeatMs));
    this.timers.push(
      setInterval(() => {
        void this.recoverOrphans().finally(() => this.wake());
      }, this.pollMs),
    );
    this.wake();
  }

  /** Stop claiming, abort every local run so it is requeued, and wait for the writes to land. */
  async shutdown(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopping';
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    const runs = [...this.runs.values()];
    for (const run of runs) run.stop({ kind: 'shutdown' });
    await Promise.all(runs.map((run) => run.done));
    await this.drain();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.state = 'stopped';
  }

  // ---- lanes -----------------------------------------------------------------------------

  /** Ask the pump to try the head of `type`'s lane (or of every lane). Cheap and idempotent. */
  wake(type?: string): void {
    if (this.state !== 'running') return;
    for (const lane of type === undefined ? this.registry.runnableTypes() : [type]) {
      this.dirtyLanes.add(lane);
    }
    this.schedulePump();
  }

  /** Abort a local run on a signal from another process (cluster cancel, lost lease). */
  abortLocal(id: string, reason: 'cancel' | 'lease-lost'): void {
    const run = this.runs.get(id);
    if (!run) return;
    run.stop(
      reason === 'cancel'
        ? { kind: 'cancel', message: 'cancelled by user' }
        : { kind: 'lease-lost' },
    );
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.pumping || this.retryTimer) return;
    this.pumpScheduled = true;
    // setImmediate rather than a microtask: a burst of creates in one tick lands in one batch.
    setImmediate(() => {
      this.pumpScheduled = false;
      void this.pump();
    });
  }

  /**
   * One batch per turn of the event loop: the final writes queued so far, plus a claim for every
   * lane that is dirty or that one of those writes frees. Work that arrives while the batch
   * commits — above all the finishes of the runs it just launched — goes out in the next turn's
   * batch, once those runs have settled, so every lane's hand-off shares one commit.
   */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    const writes = this.writes;
    this.writes = [];
    const lanes = this.state === 'running' ? this.lanesToClaim(writes) : [];
    this.dirtyLanes.clear();
    try {
      if (writes.length > 0 || lanes.length > 0) await this.commit(writes, lanes);
      this.failures = 0;
    } catch (error) {
      // The database refused (busy, unreachable): keep the writes, try again with backoff.
      this.writes = [...writes, ...this.writes];
      for (const lane of lanes) this.dirtyLanes.add(lane);
      this.failures++;
      const delay = Math.min(100 * 2 ** this.failures, 5_000);
      this.logger.error({ err: error, retry_in_ms: delay }, 'scheduler write failed');
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        void this.pump();
      }, delay);
      return;
    } finally {
      this.pumping = false;
    }
    if (this.writes.length > 0 || (this.dirtyLanes.size > 0 && this.state === 'running')) {
      this.schedulePump();
    }
  }

  private async commit(writes: Write[], lanes: string[]): Promise<void> {
    const finishes = writes.flatMap((w) => (w.kind === 'finish' ? [w.finish] : []));
    const releases = writes.flatMap((w) => (w.kind === 'release' ? [w.release] : []));
    const released = releases.length ? await this.store.release(releases) : [];
    const { finished, claimed } = await this.store.finishAndClaim({
      finishes,
      claim: lanes.length ? { types: lanes, owner: this.owner, leaseMs: this.leaseMs } : undefined,
    });
    for (const task of [...released, ...finished]) {
      this.logger.info(
        {
          task_id: task.id,
          type: task.type,
          status: task.status,
          error: task.error_message ?? undefined,
        },
        task.status === 'pending' ? 'task requeued' : 'task finished',
      );
      this.events.publish({ kind: 'status', task });
    }
    for (const write of writes) write.done();
    // A lane freed here that this call did not try to claim (this process is stopping) is
    // tried again later; the database decides. One it tried and got nothing from is empty, or
    // another process holds it: asking again would only cost a round trip, and a task created
    // later wakes its lane itself (locally, or by NOTIFY).
    const tried = new Set(lanes);
    for (const task of [...released, ...finished]) {
      if (!tried.has(task.type)) this.dirtyLanes.add(task.type);
    }
    for (const claim of claimed) this.launch(claim);
  }

  /**
   * Dirty lanes, and the lanes these writes free, that this process runs and is not driving
   * now; the database decides the rest. A run whose final write is in this batch does not keep
   * its lane busy: its finish and its successor's claim share the transaction.
   */
  private lanesToClaim(writes: readonly Write[]): string[] {
    const finishing = new Set<string>();
    const lanes = new Set(this.dirtyLanes);
    for (const write of writes) {
      const taskId = write.kind === 'finish' ? write.finish.taskId : write.release.taskId;
      finishing.add(taskId);
      const type = this.runs.get(taskId)?.type;
      if (type !== undefined) lanes.add(type);
    }
    const busy = new Set<string>();
    for (const run of this.runs.values()) if (!finishing.has(run.id)) busy.add(run.type);
    const runnable = new Set(this.registry.runnableTypes());
    return [...lanes].filter((lane) => runnable.has(lane) && !busy.has(lane));
  }

  private launch(claim: ClaimedTask): void {
    const { task } = claim;
    const definition = this.registry.get(task.type);
    const run = new Run(claim, {
      store: this.store,
      events: this.events,
      logger: this.logger,
      http: this.http,
      outputsRoot: this.outputsRoot,
      graceMs: this.graceMs,
      progressIntervalMs: this.progressIntervalMs,
      logFlushMs: this.logFlushMs,
      finalize: (r, outcome) => this.finalize(r, outcome),
    });
    this.runs.set(task.id, run);
    this.logger.info({ task_id: task.id, type: task.type, attempt: task.attempts }, 'task started');
    this.events.publish({ kind: 'status', task });
    this.events.publish({ kind: 'log', log: claim.log });
    if (!definition) {
      run.failBeforeStart(new Error(`no executor for ${task.type} on this node`));
      return;
    }
    let config: JsonObject;
    try {
      // Validated at creation; validated again because the schema may have changed since.
      config = this.registry.validate(task.type, task.config);
    } catch (error) {
      run.failBeforeStart(error);
      return;
    }
    run.start(definition, config);
  }

  private finalize(run: Run, outcome: RunOutcome): Promise<void> {
    const forget = (): void => {
      if (this.runs.get(run.id) === run) this.runs.delete(run.id);
    };
    if (outcome.kind === 'abandon') {
      this.logger.warn(
        { task_id: run.id, type: run.type },
        'lease lost: the task was recovered elsewhere; result dropped',
      );
      forget();
      this.wake(run.type);
      return Promise.resolve();
    }
    return new Promise<void>((done) => {
      const settle = (): void => {
        forget();
        done();
      };
      if (outcome.kind === 'release') {
        this.writes.push({
          kind: 'release',
          release: { taskId: run.id, token: run.token, message: outcome.message },
          done: settle,
        });
      } else {
        this.writes.push({
          kind: 'finish',
          finish: {
            taskId: run.id,
            token: run.token,
            status: outcome.status,
            result: outcome.result,
            errorMessage: outcome.error,
            message: outcome.message,
          },
          done: settle,
        });
      }
      this.schedulePump();
    });
  }

  /** Write everything queued, even while stopping (no new claims are made then). */
  private async drain(): Promise<void> {
    while (this.writes.length > 0 || this.pumping) {
      if (!this.pumping) await this.pump();
      else await new Promise((r) => setTimeout(r, 5));
    }
  }

  // ---- leases and recovery ---------------------------------------------------------------

  private async heartbeat(): Promise<void> {
    if (this.state !== 'running') return;
    // Only runs launched before the renewal can be judged by it: a claim committed while the
    // renewal was in flight is missing from its report without its lease being lost, and so is
    // a run whose finish committed meanwhile.
    const judged = new Set(this.runs.values());
    try {
      const report = await this.store.renewLeases(this.owner, this.leaseMs);
      const held = new Set(report.held);
      for (const run of judged) {
        if (
          !held.has(run.id) &&
          !run.stopping &&
          !run.settledAlready &&
          this.runs.get(run.id) === run
        ) {
          this.logger.warn({ task_id: run.id }, 'lease lost; aborting the local executor');
          run.stop({ kind: 'lease-lost' });
        }
      }
      for (const id of report.cancelRequested) this.abortLocal(id, 'cancel');
    } catch (error) {
      this.logger.error({ err: error }, 'lease renewal failed');
    }
  }

  private async recoverOrphans(): Promise<void> {
    try {
      const { requeued, failed, cancelled } = await this.store.recoverOrphans(this.owner);
      for (const task of [...requeued, ...failed, ...cancelled]) {
        this.logger.warn(
          { task_id: task.id, type: task.type, status: task.status, attempts: task.attempts },
          'recovered an interrupted task',
        );
        this.events.publish({ kind: 'status', task });
        this.wake(task.type);
      }
    } catch (error) {
      this.logger.error({ err: error }, 'orphan recovery failed');
    }
  }

  // ---- what the task service needs --------------------------------------------------

  /** Refuse new work while starting or shutting down. */
  assertAccepting(): void {
    if (this.state !== 'running') {
      throw new TailorError(
        ErrorCode.DEPENDENCY_UNAVAILABLE,
        'the scheduler is not running (starting or shutting down)',
      );
    }
  }

  /** The id of the task of `type` this process is driving now, if any. */
  localRunOf(type: string): string | undefined {
    for (const run of this.runs.values()) if (run.type === type) return run.id;
    return undefined;
  }

  /**
   * Stop a run this process drives and resolve once its final write is committed; null when
   * another process runs the task (it learns of the durable request by signal or heartbeat).
   */
  stopLocal(id: string, message: string): Promise<void> | null {
    const run = this.runs.get(id);
    if (!run) return null;
    run.stop({ kind: 'cancel', message });
    return run.done;
  }

  /** How long a remote stop can take at most: the owner's grace period after its lease ran out. */
  get remoteStopBoundMs(): number {
    return this.graceMs + this.leaseMs + this.heartbeatMs;
  }
}
