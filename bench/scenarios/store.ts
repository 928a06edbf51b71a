import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/open.js';
import type { Finish, Store } from '../../src/store/store.js';
import type { Flags } from '../lib/args.js';
import { bullmqOrNull, runBullmqWorkload } from '../lib/bullmq.js';
import { freshSchema } from '../lib/postgres.js';
import { interleave, median, pairedRatios, printResult, printTable, round } from '../lib/stats.js';
import { laneTypes, type StoreKind } from '../lib/tailor.js';
import { readWorkload, type Workload } from './scheduler.js';

export interface StoreRunResult {
  tasks: number;
  enqueueSeconds: number;
  seconds: number;
  tasksPerS: number;
  /** Store calls that finished and claimed (one commit each). */
  handOffs: number;
  maxClaimedPerLane: number;
}

const OWNER = { node: 'bench', instance: 'bench#1' };

/**
 * The `scheduler` workload with nothing but the store: the same L×N creates, then the loop a
 * scheduler with instant executors would run — finish every claimed task and claim the head of
 * every lane, in one `finishAndClaim` call (one transaction) per round — until the lanes are
 * empty. No executors, events, logs or server: the time left is the database's. What a
 * scheduler on this store can at best approach.
 */
export async function runStoreWorkload(
  kind: StoreKind,
  workload: Workload,
): Promise<StoreRunResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tailor-bench-store-'));
  const schema = kind === 'postgres' ? await freshSchema() : null;
  let store: Store | null = null;
  try {
    store = await openStore(schema ? schema.url : join(dataDir, 'tailor.db'));
    await store.migrate();
    const types = laneTypes(workload.lanes);
    const tasks = workload.lanes * workload.tasksPerLane;
    const started = performance.now();
    const creates: Promise<unknown>[] = [];
    for (let i = 0; i < workload.tasksPerLane; i++) {
      for (const type of types) {
        creates.push(store.createTask({ type, config: {}, priority: 0, max_attempts: 1 }));
      }
      // As in `scheduler`: a bounded number of PostgreSQL inserts in flight.
      if (kind === 'postgres' && creates.length >= 64) await Promise.all(creates.splice(0));
    }
    await Promise.all(creates);
    const enqueued = performance.now();

    let finishes: Finish[] = [];
    let finished = 0;
    let handOffs = 0;
    let maxClaimedPerLane = 0;
    for (;;) {
      const round = await store.finishAndClaim({
        finishes,
        claim: { types, owner: OWNER, leaseMs: 60_000 },
      });
      handOffs++;
      finished += round.finished.length;
      const perLane = new Map<string, number>();
      for (const { task } of round.claimed) {
        perLane.set(task.type, (perLane.get(task.type) ?? 0) + 1);
      }
      maxClaimedPerLane = Math.max(maxClaimedPerLane, ...perLane.values(), 0);
      finishes = round.claimed.map(({ task, token }) => ({
        taskId: task.id,
        token,
        status: 'completed',
      }));
      if (finishes.length === 0) break;
    }
    const seconds = (performance.now() - started) / 1000;
    if (finished !== tasks) throw new Error(`finished ${finished} of ${tasks} tasks`);
    if (maxClaimedPerLane > 1) throw new Error(`one call claimed ${maxClaimedPerLane} of a lane`);
    return {
      tasks,
      enqueueSeconds: (enqueued - started) / 1000,
      seconds,
      tasksPerS: tasks / seconds,
      handOffs,
      maxClaimedPerLane,
    };
  } finally {
    await store?.close();
    await schema?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * BullMQ, then the bare SQLite and PostgreSQL stores on the same workload, with the ratios; with
 * `--rounds R` all three R times, interleaved, reporting medians and the median per-round ratio.
 */
export async function storeScenario(flags: Flags): Promise<void> {
  const workload = readWorkload(flags);
  const rounds = flags.int('rounds', 1);
  const runs = await interleave<number>(rounds, [
    [
      'bullmq',
      () =>
        bullmqOrNull(async () => (await runBullmqWorkload({ ...workload, samples: 0 })).tasksPerS),
    ],
    ['sqlite store', async () => (await runStoreWorkload('sqlite', workload)).tasksPerS],
    ['postgres store', async () => (await runStoreWorkload('postgres', workload)).tasksPerS],
  ]);
  const bullmq = runs.get('bullmq')!;
  const figures = (name: string) => {
    const perRound = runs.get(name)!;
    const ratios = pairedRatios(perRound, bullmq);
    const done = perRound.flatMap((v) => (v === null ? [] : [v]));
    return {
      tasksPerS: done.length ? Math.round(median(done)) : null,
      ratio: ratios.length ? round(median(ratios)) : null,
      range: ratios.length ? `${round(Math.min(...ratios))}–${round(Math.max(...ratios))}` : 'n/a',
    };
  };
  const sqlite = figures('sqlite store');
  const postgres = figures('postgres store');
  const base = figures('bullmq');
  printTable(
    `store — ${workload.lanes} lanes × ${workload.tasksPerLane} tasks, the stores alone (no scheduler)` +
      (rounds > 1 ? `, median of ${rounds} interleaved rounds` : ''),
    [
      ['system', 'tasks/s', '× bullmq', '× range'],
      ['bullmq', base.tasksPerS ?? 'not run', base.tasksPerS === null ? 'n/a' : 1, ''],
      ['sqlite store', sqlite.tasksPerS ?? 'n/a', sqlite.ratio ?? 'n/a', sqlite.range],
      ['postgres store', postgres.tasksPerS ?? 'n/a', postgres.ratio ?? 'n/a', postgres.range],
    ],
  );
  printResult({
    scenario: 'store',
    rounds,
    bullmq_tasks_per_s: base.tasksPerS,
    sqlite_tasks_per_s: sqlite.tasksPerS,
    postgres_tasks_per_s: postgres.tasksPerS,
    sqlite_ratio: sqlite.ratio,
    postgres_ratio: postgres.ratio,
  });
}
