import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/open.js';
import type { Finish, Store } from '../../src/store/store.js';
import type { Flags } from '../lib/args.js';
import { runBullmqWorkload } from '../lib/bullmq.js';
import { freshSchema } from '../lib/postgres.js';
import { printResult, printTable, round } from '../lib/stats.js';
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

/** BullMQ, then the bare SQLite and PostgreSQL stores on the same workload, with the ratios. */
export async function storeScenario(flags: Flags): Promise<void> {
  const workload = readWorkload(flags);
  console.error('running bullmq…');
  let bullmq: number | null = null;
  try {
    bullmq = (await runBullmqWorkload({ ...workload, samples: 0 })).tasksPerS;
  } catch (error) {
    console.error(`bullmq skipped: ${(error as Error).message}`);
  }
  console.error('running the sqlite store…');
  const sqlite = await runStoreWorkload('sqlite', workload);
  console.error('running the postgres store…');
  const postgres = await runStoreWorkload('postgres', workload);
  const ratio = (r: StoreRunResult): number | null => (bullmq ? round(r.tasksPerS / bullmq) : null);
  printTable(
    `store — ${workload.lanes} lanes × ${workload.tasksPerLane} tasks, the stores alone (no scheduler)`,
    [
      [
        'system',
        'enqueue s',
        'drained s',
        'tasks/s',
        '× bullmq',
        'hand-offs',
        'max claimed per lane',
      ],
      ['bullmq', '', '', bullmq === null ? 'not run' : Math.round(bullmq), 1, '', ''],
      ...(
        [
          ['sqlite store', sqlite],
          ['postgres store', postgres],
        ] as const
      ).map(([name, r]) => [
        name,
        round(r.enqueueSeconds, 3),
        round(r.seconds, 3),
        Math.round(r.tasksPerS),
        ratio(r) ?? 'n/a',
        r.handOffs,
        r.maxClaimedPerLane,
      ]),
    ],
  );
  printResult({
    scenario: 'store',
    bullmq_tasks_per_s: bullmq === null ? null : Math.round(bullmq),
    sqlite_tasks_per_s: Math.round(sqlite.tasksPerS),
    postgres_tasks_per_s: Math.round(postgres.tasksPerS),
    sqlite_ratio: ratio(sqlite),
    postgres_ratio: ratio(postgres),
  });
}
