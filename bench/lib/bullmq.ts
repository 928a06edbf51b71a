import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import { summarize, type Workload, type WorkloadResult } from '../scenarios/scheduler.js';

const redis = {
  host: process.env.BENCH_REDIS_HOST ?? '127.0.0.1',
  port: Number(process.env.BENCH_REDIS_PORT ?? 6379),
};

type RedisConstructor = new (options: object) => { quit(): Promise<unknown> };

/**
 * BullMQ 6 leaves the Redis driver to the application (`ioredis` is an optional peer). Under ESM
 * it must be handed a constructed client; without a driver installed the peer cannot run.
 */
export function loadRedisDriver(): RedisConstructor {
  try {
    const mod = createRequire(import.meta.url)('ioredis') as RedisConstructor & {
      default?: RedisConstructor;
    };
    return mod.default ?? mod;
  } catch {
    throw new Error(
      "BullMQ needs a Redis driver: the 'ioredis' package is not installed (npm i -D ioredis)",
    );
  }
}

/**
 * The same workload on BullMQ: one queue per lane, one Worker with concurrency 1 per queue (its
 * way of running a lane serially), a no-op processor, completed jobs removed as they finish.
 */
export async function runBullmqWorkload(workload: Workload): Promise<WorkloadResult> {
  const Redis = loadRedisDriver();
  const clients: { quit(): Promise<unknown> }[] = [];
  // One connection per Queue and Worker, as BullMQ would open itself (Workers block on theirs).
  const connect = (): ConnectionOptions => {
    const client = new Redis({ ...redis, maxRetriesPerRequest: null });
    clients.push(client);
    return client as unknown as ConnectionOptions;
  };
  const prefix = `tailorbench${randomBytes(4).toString('hex')}`;
  const names = Array.from({ length: workload.lanes }, (_, i) => `lane${i}`);
  const queues = names.map((name) => new Queue(name, { connection: connect(), prefix }));
  const starts = new Map<number, number>();
  const active = new Map<string, number>();
  let maxConcurrentSameLane = 0;
  let completed = 0;
  let onCompleted: (() => void) | null = null;
  const workers = names.map((name) => {
    const worker = new Worker(
      name,
      async (job) => {
        const n = (job.data as { n?: number }).n ?? -1;
        if (n >= 0) starts.set(n, performance.now());
        const now = (active.get(name) ?? 0) + 1;
        active.set(name, now);
        maxConcurrentSameLane = Math.max(maxConcurrentSameLane, now);
        await Promise.resolve();
        active.set(name, (active.get(name) ?? 1) - 1);
      },
      {
        connection: connect(),
        prefix,
        concurrency: 1,
        autorun: false,
        removeOnComplete: { count: 0 },
      },
    );
    worker.on('completed', () => {
      completed++;
      onCompleted?.();
    });
    return worker;
  });
  const until = (count: number): Promise<void> =>
    new Promise((resolve) => {
      onCompleted = () => {
        if (completed >= count) {
          onCompleted = null;
          resolve();
        }
      };
    });
  try {
    await Promise.all(workers.map((worker) => worker.waitUntilReady()));
    const tasks = workload.lanes * workload.tasksPerLane;
    const drained = until(tasks);
    const started = performance.now();
    for (let i = 0; i < workload.tasksPerLane; i += 500) {
      const count = Math.min(500, workload.tasksPerLane - i);
      await Promise.all(
        queues.map((queue) =>
          queue.addBulk(Array.from({ length: count }, () => ({ name: 'noop', data: {} }))),
        ),
      );
    }
    const enqueued = performance.now();
    for (const worker of workers) void worker.run();
    await drained;
    const seconds = (performance.now() - started) / 1000;

    const latencies: number[] = [];
    for (let n = 0; n < workload.samples; n++) {
      const done = until(completed + 1);
      const t0 = performance.now();
      await queues[0]!.add('noop', { n });
      await done;
      latencies.push(starts.get(n)! - t0);
    }
    return summarize({ tasks, started, enqueued, seconds, latencies, maxConcurrentSameLane });
  } finally {
    await Promise.all(workers.map((worker) => worker.close()));
    await Promise.all(queues.map((queue) => queue.obliterate({ force: true })));
    await Promise.all(queues.map((queue) => queue.close()));
    await Promise.all(clients.map((client) => client.quit().catch(() => undefined)));
  }
}

/**
 * A BullMQ run, or null when it cannot run (no Redis, no driver): the scenario still measures
 * this project, and its ratios become unknown (null), never guessed.
 */
export async function bullmqOrNull<R>(run: () => Promise<R>): Promise<R | null> {
  try {
    return await run();
  } catch (error) {
    console.error(`bullmq skipped: ${(error as Error).message}`);
    return null;
  }
}
