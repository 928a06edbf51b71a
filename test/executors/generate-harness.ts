import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import {
  TERMINAL_STATUSES,
  type Task,
  type TaskLog,
  type TaskStatus,
} from '../../src/domain/task.js';
import { createHttpClient } from '../../src/executors/http-client.js';
import { createGenerateExecutor } from '../../src/executors/generate/index.js';
import { TaskEvents } from '../../src/scheduler/events.js';
import { ExecutorRegistry } from '../../src/scheduler/registry.js';
import { LaneEngine } from '../../src/scheduler/lanes.js';
import { TaskService } from '../../src/scheduler/tasks.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';

/**
 * The real scheduler, SQLite store and generate executor, pointed at a WebUI URL (usually a
 * `FakeSdWebui`). No HTTP API: tasks are created through the task service and watched through its
 * events, exactly what the routes will do.
 */
export interface GenerateHarness {
  scheduler: LaneEngine;
  tasks: TaskService;
  store: SqliteStore;
  events: TaskEvents;
  dataDir: string;
  /** Every status event, in publication order. */
  statuses: Task[];
  waitForStatus(id: string, statuses: readonly TaskStatus[]): Promise<Task>;
  waitForTerminal(id: string): Promise<Task>;
  logs(id: string): Promise<TaskLog[]>;
  close(): Promise<void>;
}

export async function startGenerateHarness(webuiUrl: string): Promise<GenerateHarness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tailor-generate-'));
  const store = new SqliteStore({ file: join(dataDir, 'tailor.db') });
  await store.migrate();
  const http = createHttpClient({ timeoutMs: 30_000 });
  const registry = new ExecutorRegistry();
  registry.register(
    createGenerateExecutor({ webuiUrl, progressPollMs: 15, requestTimeoutMs: 5_000 }),
  );
  const events = new TaskEvents();
  const statuses: Task[] = [];
  events.subscribe((event) => {
    if (event.kind === 'status') statuses.push(event.task);
  });
  const scheduler = new LaneEngine({
    store,
    registry,
    events,
    logger: pino({ level: 'silent' }),
    owner: { node: 'test', instance: randomUUID() },
    http,
    dataDir,
    progressIntervalMs: 5,
    logFlushMs: 5,
    graceMs: 10_000,
  });
  await scheduler.start();
  const tasks = new TaskService({
    store,
    lanes: scheduler,
    registry,
    events,
    logger: pino({ level: 'silent' }),
    http,
    dataDir,
  });

  const waitForStatus = (id: string, wanted: readonly TaskStatus[]): Promise<Task> =>
    new Promise((resolve, reject) => {
      const unsubscribe = events.subscribe((event) => {
        if (event.kind === 'status' && event.task.id === id && wanted.includes(event.task.status)) {
          unsubscribe();
          resolve(event.task);
        }
      });
      // It may already be there: subscribed first, then read, so nothing falls in between.
      store.getTask(id).then((task) => {
        if (task && wanted.includes(task.status)) {
          unsubscribe();
          resolve(task);
        }
      }, reject);
    });

  return {
    scheduler,
    tasks,
    store,
    events,
    dataDir,
    statuses,
    waitForStatus,
    waitForTerminal: (id) => waitForStatus(id, TERMINAL_STATUSES),
    logs: (id) => store.listLogs(id, 0, 10_000),
    async close() {
      await scheduler.shutdown();
      await store.close();
      await http.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
