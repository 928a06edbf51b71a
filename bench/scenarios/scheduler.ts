import type { TaskEvents } from '../../src/scheduler/events.js';
import type { Flags } from '../lib/args.js';
import { percentile, printResult, printTable, round } from '../lib/stats.js';
import { LaneProbe, laneTypes, startBenchServer, type StoreKind } from '../lib/tailor.js';

export interface Workload {
  lanes: number;
  tasksPerLane: number;
  samples: number;
}

export interface WorkloadResult {
  tasks: number;
  enqueueSeconds: number;
  seconds: number;
  tasksPerS: number;
  p50Ms: number;
  p99Ms: number;
  maxConcurrentSameLane: number;
}

/** The figures of one drain run plus its idle-lane latency samples (ms), for any system. */
export function summarize(run: {
  tasks: number;
  started: number;
  enqueued: number;
  seconds: number;
  latencies: readonly number[];
  maxConcurrentSameLane: number;
}): WorkloadResult {
  return {
    tasks: run.tasks,
    enqueueSeconds: (run.enqueued - run.started) / 1000,
    seconds: run.seconds,
    tasksPerS: run.tasks / run.seconds,
    p50Ms: percentile(run.latencies, 50),
    p99Ms: percentile(run.latencies, 99),
    maxConcurrentSameLane: run.maxConcurrentSameLane,
  };
}

export const readWorkload = (flags: Flags): Workload => ({
  lanes: flags.int('lanes', 4),
  tasksPerLane: flags.int('tasks-per-lane', 2500),
  samples: flags.int('samples', 200),
});

/** Resolves once `count` tasks have completed (as published after their commit). */
function completions(events: TaskEvents, count: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const unsubscribe = events.subscribe((event) => {
      if (event.kind === 'status' && event.task.status === 'completed' && ++seen === count) {
        unsubscribe();
        resolve();
      }
    });
  });
}

/**
 * The reference workload: L×N no-op tasks enqueued through `scheduler.create` (what `POST /api/create` calls),
 * timed from the first enqueue to the last completion; then S sequential tasks into an idle lane,
 * each timed from the call to create until its executor starts.
 */
export async function runTailorWorkload(
  kind: StoreKind,
  workload: Workload,
): Promise<WorkloadResult> {
  const types = laneTypes(workload.lanes);
  const probe = new LaneProbe();
  const bench = await startBenchServer(kind, probe.executors(types));
  const { tasks: service, events } = bench.server;
  try {
    const tasks = workload.lanes * workload.tasksPerLane;
    const drained = completions(events, tasks);
    const started = performance.now();
    const creates: Promise<unknown>[] = [];
    for (let i = 0; i < workload.tasksPerLane; i++) {
      for (const type of types) creates.push(service.create({ type, config: {} }));
      // PostgreSQL: keep a bounded number of inserts in flight (the pool has 10 connections).
      if (kind === 'postgres' && creates.length >= 64) await Promise.all(creates.splice(0));
    }
    await Promise.all(creates);
    const enqueued = performance.now();
    await drained;
    const seconds = (performance.now() - started) / 1000;

    const latencies: number[] = [];
    for (let n = 0; n < workload.samples; n++) {
      const done = completions(events, 1);
      const t0 = performance.now();
      await service.create({ type: types[0]!, config: { n } });
      await done;
      latencies.push(probe.starts.get(n)! - t0);
    }
    return summarize({
      tasks,
      started,
      enqueued,
      seconds,
      latencies,
      maxConcurrentSameLane: probe.maxConcurrentSameLane,
    });
  } finally {
    await bench.dispose();
  }
}

export async function schedulerScenario(flags: Flags): Promise<void> {
  const store = flags.choice('store', ['sqlite', 'postgres'] as const, 'sqlite');
  const workload = readWorkload(flags);
  const r = await runTailorWorkload(store, workload);
  printTable(
    `scheduler — ${store}, ${workload.lanes} lanes × ${workload.tasksPerLane} no-op tasks`,
    [
      ['measure', 'value'],
      ['tasks', r.tasks],
      ['enqueue (s)', round(r.enqueueSeconds, 3)],
      ['enqueue → drained (s)', round(r.seconds, 3)],
      ['throughput (tasks/s)', Math.round(r.tasksPerS)],
      [`idle-lane start p50 (ms, ${workload.samples} samples)`, round(r.p50Ms, 3)],
      ['idle-lane start p99 (ms)', round(r.p99Ms, 3)],
      ['max concurrent same lane', r.maxConcurrentSameLane],
    ],
  );
  printResult({
    scenario: 'scheduler',
    store,
    lanes: workload.lanes,
    tasks: r.tasks,
    seconds: round(r.seconds, 3),
    tasks_per_s: Math.round(r.tasksPerS),
    p50_ms: round(r.p50Ms, 3),
    p99_ms: round(r.p99Ms, 3),
    max_concurrent_same_lane: r.maxConcurrentSameLane,
  });
}
