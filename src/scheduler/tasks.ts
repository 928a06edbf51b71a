/**
 * The task service: what users do to tasks — create, stop, cancel, re-run, delete, clean up, read.
 * HTTP, WebSocket, the CLI (through HTTP) and executor modules' routes all go through it; the lane
 * engine (`lanes.ts`) runs what it queues. Each action is one conditional store write (the
 * transition table is in `domain/task.ts`), so a racing action loses instead of corrupting.
 */
import { rm } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { Logger } from 'pino';
import { ErrorCode, TailorError, illegalTransition, taskNotFound } from '../domain/errors.js';
import {
  ACTION_FROM,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_PRIORITY,
  TERMINAL_STATUSES,
  isTaskId,
  isTerminal,
  type Task,
  type TaskLog,
  type TerminalStatus,
} from '../domain/task.js';
import type { ListQuery, Store } from '../store/store.js';
import type { TaskEvents } from './events.js';
import type { HttpClient, PublicSetting } from './executor.js';
import type { LaneEngine } from './lanes.js';
import type { ExecutorRegistry } from './registry.js';

export interface CreateTaskInput {
  type: string;
  config: unknown;
  priority?: number | undefined;
  max_attempts?: number | undefined;
}

export const LIMITS = {
  maxAttempts: 10,
  priority: 1_000_000,
} as const;

export interface TaskTypeInfo {
  type: string;
  /** Whether this node runs it; other nodes may (cluster mode), so it is still accepted. */
  runnable: boolean;
  description: string;
  /** JSON Schema of the task's config, for generated forms. */
  schema: object;
  settings: readonly PublicSetting[];
}

export interface TaskServiceOptions {
  store: Store;
  lanes: LaneEngine;
  registry: ExecutorRegistry;
  events: TaskEvents;
  logger: Logger;
  http: HttpClient;
  dataDir: string;
}

export class TaskService {
  private readonly store: Store;
  private readonly lanes: LaneEngine;
  private readonly registry: ExecutorRegistry;
  private readonly events: TaskEvents;
  private readonly logger: Logger;
  private readonly http: HttpClient;
  private readonly outputsRoot: string;

  constructor(options: TaskServiceOptions) {
    this.store = options.store;
    this.lanes = options.lanes;
    this.registry = options.registry;
    this.events = options.events;
    this.logger = options.logger;
    this.http = options.http;
    this.outputsRoot = resolve(options.dataDir, 'outputs');
  }

  /** The folder that holds every task's own output folder. */
  get outputsDir(): string {
    return this.outputsRoot;
  }

  /**
   * Validate (400 naming the field), precheck on a node that runs the type (503 when its peer is
   * unreachable; nothing is queued then), commit, then wake the lane.
   */
  async create(input: CreateTaskInput): Promise<Task> {
    this.lanes.assertAccepting();
    const priority = input.priority ?? DEFAULT_PRIORITY;
    const maxAttempts = input.max_attempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isInteger(priority) || Math.abs(priority) > LIMITS.priority) {
      throw new TailorError(
        ErrorCode.VALIDATION,
        `/priority must be an integer within ±${LIMITS.priority}`,
      );
    }
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > LIMITS.maxAttempts) {
      throw new TailorError(
        ErrorCode.VALIDATION,
        `/max_attempts must be an integer from 1 to ${LIMITS.maxAttempts}`,
      );
    }
    const prepare = this.registry.get(input.type)?.prepare;
    const config = this.registry.validate(
      input.type,
      prepare ? await prepare(input.config) : input.config,
    );
    // Only a node that runs the type can judge its peer (another node may reach a WebUI this
    // one cannot); elsewhere the task is queued for the nodes that run it.
    if (this.registry.runnableTypes().includes(input.type)) {
      await this.registry
        .get(input.type)
        ?.precheck?.(config, { http: this.http, dataDir: this.outputsRoot });
    }
    const task = await this.store.createTask({
      type: input.type,
      config,
      priority,
      max_attempts: maxAttempts,
    });
    this.logger.info({ task_id: task.id, type: task.type, priority }, 'task created');
    const ahead = this.lanes.localRunOf(task.type);
    if (ahead !== undefined) {
      this.logger.info(
        { task_id: task.id, type: task.type, running: ahead },
        'task queued behind a running task of the same type',
      );
    }
    this.events.publish({ kind: 'created', task });
    this.lanes.wake(task.type);
    return task;
  }

  /** running → cancelled, after the executor returned or its grace period ran out. */
  async stop(id: string, reason = 'stopped by user'): Promise<Task> {
    const task = await this.mustGet(id);
    if (task.status !== 'running')
      throw illegalTransition('stop', id, task.status, ACTION_FROM.stop);
    const marked = await this.store.requestCancel(id);
    if (!marked) {
      const now = await this.mustGet(id);
      throw illegalTransition('stop', id, now.status, ACTION_FROM.stop);
    }
    this.logger.info({ task_id: id, type: task.type, reason }, 'stop requested');
    const local = this.lanes.stopLocal(id, reason);
    // Another process runs it: it sees the durable request on its next heartbeat (or sooner
    // through a cluster signal). Wait for the outcome rather than guess it.
    await (local ?? this.waitForTerminal(id, this.lanes.remoteStopBoundMs));
    return this.mustGet(id);
  }

  /** pending → cancelled at once (it leaves its lane in the same statement); running → as stop. */
  async cancel(id: string): Promise<Task> {
    const cancelled = await this.store.cancelPending(id, 'cancelled before it started');
    if (cancelled) {
      this.logger.info({ task_id: id, type: cancelled.type }, 'pending task cancelled');
      this.events.publish({ kind: 'status', task: cancelled });
      return cancelled;
    }
    const task = await this.mustGet(id);
    if (task.status === 'running') return this.stop(id, 'cancelled by user');
    throw illegalTransition('cancel', id, task.status, ACTION_FROM.cancel);
  }

  /** terminal → pending (a new attempt at the tail of its lane); pending is a no-op. */
  async rerun(id: string): Promise<Task> {
    this.lanes.assertAccepting();
    const task = await this.store.rerun(id);
    if (task) {
      this.logger.info({ task_id: id, type: task.type }, 'task requeued by user');
      this.events.publish({ kind: 'status', task });
      this.lanes.wake(task.type);
      return task;
    }
    const current = await this.mustGet(id);
    if (current.status === 'pending') return current;
    throw illegalTransition('start', id, current.status, [...ACTION_FROM.rerun, 'pending']);
  }

  /** Delete any task; a running one is stopped first. Output files only when asked. */
  async remove(id: string, options: { deleteFiles?: boolean } = {}): Promise<void> {
    for (;;) {
      const type = (await this.mustGet(id)).type;
      const outcome = await this.store.deleteTask(id);
      if (outcome === 'missing') throw taskNotFound(id);
      if (outcome === 'deleted') {
        this.logger.info({ task_id: id, type }, 'task deleted');
        // Announced once complete, files included (and announced even should removing them fail:
        // the task itself is gone).
        try {
          if (options.deleteFiles) await this.deleteOutputs(id);
        } finally {
          this.events.publish({ kind: 'deleted', taskId: id, type });
        }
        return;
      }
      await this.stop(id, 'deleted by user').catch((error: unknown) => {
        // It finished between the two reads: the next loop deletes the terminal row.
        if (!(error instanceof TailorError && error.code === ErrorCode.ILLEGAL_TRANSITION))
          throw error;
      });
    }
  }

  /**
   * Delete terminal tasks only: pending and running tasks are never touched, whatever the kind
   * (the original deleted running tasks without stopping them).
   */
  async cleanup(
    kind: TerminalStatus | 'all',
    options: { deleteFiles?: boolean } = {},
  ): Promise<string[]> {
    const statuses: readonly TerminalStatus[] = kind === 'all' ? TERMINAL_STATUSES : [kind];
    const removed = await this.store.cleanup(statuses);
    this.logger.info({ cleanup_type: kind, count: removed.length }, 'tasks cleaned up');
    try {
      if (options.deleteFiles) for (const { id } of removed) await this.deleteOutputs(id);
    } finally {
      for (const { id, type } of removed)
        this.events.publish({ kind: 'deleted', taskId: id, type });
    }
    return removed.map(({ id }) => id);
  }

  async get(id: string): Promise<Task | null> {
    return isTaskId(id) ? this.store.getTask(id) : null;
  }

  async list(query: ListQuery): Promise<{ tasks: Task[]; total: number }> {
    return this.store.listTasks(query);
  }

  async logs(id: string, afterSeq: number, limit: number): Promise<TaskLog[]> {
    await this.mustGet(id);
    return this.store.listLogs(id, afterSeq, limit);
  }

  /** A task's own output folder (it exists once the task has written something). */
  outputDirOf(id: string): string {
    return join(this.outputsRoot, id);
  }

  /** Every registered type, whether this node runs it, and its config schema. */
  describeTypes(): TaskTypeInfo[] {
    const runnable = new Set(this.registry.runnableTypes());
    return this.registry.types().map((type) => {
      const definition = this.registry.get(type);
      return {
        type,
        runnable: runnable.has(type),
        description: definition?.description ?? '',
        schema: definition?.schema ?? {},
        settings: definition?.settings ?? [],
      };
    });
  }

  private async mustGet(id: string): Promise<Task> {
    const task = await this.get(id);
    if (!task) throw taskNotFound(id);
    return task;
  }

  private waitForTerminal(id: string, timeoutMs: number): Promise<void> {
    return new Promise((done) => {
      let finished = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        unsubscribe();
        clearInterval(poll);
        clearTimeout(timer);
        done();
      };
      const unsubscribe = this.events.subscribe((event) => {
        if (event.kind === 'status' && event.task.id === id && isTerminal(event.task.status))
          finish();
        if (event.kind === 'deleted' && event.taskId === id) finish();
      });
      // Events from other processes may not reach this one (two servers on one SQLite file).
      const poll = setInterval(() => {
        void this.store.getTask(id).then((task) => {
          if (!task || isTerminal(task.status)) finish();
        });
      }, 250);
      const timer = setTimeout(finish, timeoutMs);
    });
  }

  /** Only the task's own folder under `<data>/outputs`, never a path its result names. */
  private async deleteOutputs(id: string): Promise<void> {
    const dir = resolve(this.outputsRoot, id);
    if (!isTaskId(id) || !dir.startsWith(this.outputsRoot + sep)) return;
    await rm(dir, { recursive: true, force: true });
  }
}
