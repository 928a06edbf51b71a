import type { Flags } from '../lib/args.js';
import { runBullmqWorkload } from '../lib/bullmq.js';
import { printResult, printTable, round } from '../lib/stats.js';
import { readWorkload, runTailorWorkload, type WorkloadResult } from './scheduler.js';

/** The reference workload on BullMQ (Redis), then on this project with SQLite and PostgreSQL. */
export async function peerScenario(flags: Flags): Promise<void> {
  const workload = readWorkload(flags);
  console.error('running bullmq…');
  let bullmq: WorkloadResult | null = null;
  try {
    bullmq = await runBullmqWorkload(workload);
  } catch (error) {
    // Still measure this project; the ratios are then unknown (null), never guessed.
    console.error(`bullmq skipped: ${(error as Error).message}`);
  }
  console.error('running sqlite…');
  const sqlite = await runTailorWorkload('sqlite', workload);
  console.error('running postgres…');
  const postgres = await runTailorWorkload('postgres', workload);
  const results: [string, WorkloadResult | null][] = [
    ['bullmq', bullmq],
    ['sqlite', sqlite],
    ['postgres', postgres],
  ];
  const ratio = (r: WorkloadResult): number | null =>
    bullmq ? round(r.tasksPerS / bullmq.tasksPerS) : null;
  printTable(
    `peer — ${workload.lanes} lanes × ${workload.tasksPerLane} no-op tasks, ${workload.samples} latency samples`,
    [
      [
        'system',
        'enqueue s',
        'drained s',
        'tasks/s',
        '× bullmq',
        'p50 ms',
        'p99 ms',
        'max same lane',
      ],
      ...results.map(([name, r]) =>
        r
          ? [
              name,
              round(r.enqueueSeconds, 3),
              round(r.seconds, 3),
              Math.round(r.tasksPerS),
              ratio(r) ?? 'n/a',
              round(r.p50Ms, 3),
              round(r.p99Ms, 3),
              r.maxConcurrentSameLane,
            ]
          : [name, 'not run', '', '', '', '', '', ''],
      ),
    ],
  );
  printResult({
    scenario: 'peer',
    bullmq_tasks_per_s: bullmq ? Math.round(bullmq.tasksPerS) : null,
    sqlite_tasks_per_s: Math.round(sqlite.tasksPerS),
    postgres_tasks_per_s: Math.round(postgres.tasksPerS),
    sqlite_ratio: ratio(sqlite),
    postgres_ratio: ratio(postgres),
    bullmq_p99_ms: bullmq ? round(bullmq.p99Ms, 3) : null,
    sqlite_p99_ms: round(sqlite.p99Ms, 3),
    postgres_p99_ms: round(postgres.p99Ms, 3),
  });
}
