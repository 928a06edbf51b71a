import type { Flags } from '../lib/args.js';
import { bullmqOrNull, runBullmqWorkload } from '../lib/bullmq.js';
import { interleave, median, pairedRatios, printResult, printTable, round } from '../lib/stats.js';
import { readWorkload, runTailorWorkload, type WorkloadResult } from './scheduler.js';

/**
 * The reference workload on BullMQ (Redis), then on this project with SQLite and PostgreSQL;
 * with `--rounds R` all three R times, interleaved, reporting medians and the median of the
 * per-round ratios.
 */
export async function peerScenario(flags: Flags): Promise<void> {
  const workload = readWorkload(flags);
  const rounds = flags.int('rounds', 1);
  const runs = await interleave<WorkloadResult>(rounds, [
    ['bullmq', () => bullmqOrNull(() => runBullmqWorkload(workload))],
    ['sqlite', () => runTailorWorkload('sqlite', workload)],
    ['postgres', () => runTailorWorkload('postgres', workload)],
  ]);
  const figures = (name: string) => {
    const done = runs.get(name)!.flatMap((r) => (r ? [r] : []));
    if (done.length === 0) return null;
    const throughput = (r: WorkloadResult | null) => (r ? r.tasksPerS : null);
    const ratios = pairedRatios(
      runs.get(name)!.map(throughput),
      runs.get('bullmq')!.map(throughput),
    );
    return {
      enqueueSeconds: median(done.map((r) => r.enqueueSeconds)),
      seconds: median(done.map((r) => r.seconds)),
      tasksPerS: median(done.map((r) => r.tasksPerS)),
      p50Ms: median(done.map((r) => r.p50Ms)),
      p99Ms: median(done.map((r) => r.p99Ms)),
      maxConcurrentSameLane: Math.max(...done.map((r) => r.maxConcurrentSameLane)),
      ratio: ratios.length ? round(median(ratios)) : null,
      ratioRange: ratios.length
        ? `${round(Math.min(...ratios))}–${round(Math.max(...ratios))}`
        : 'n/a',
    };
  };
  const [bullmq, sqlite, postgres] = ['bullmq', 'sqlite', 'postgres'].map(figures);
  const several = rounds > 1;
  printTable(
    `peer — ${workload.lanes} lanes × ${workload.tasksPerLane} no-op tasks, ${workload.samples} latency samples` +
      (several ? `, median of ${rounds} interleaved rounds` : ''),
    [
      [
        'system',
        'enqueue s',
        'drained s',
        'tasks/s',
        '× bullmq',
        ...(several ? ['× range'] : []),
        'p50 ms',
        'p99 ms',
        'max same lane',
      ],
      ...(
        [
          ['bullmq', bullmq],
          ['sqlite', sqlite],
          ['postgres', postgres],
        ] as const
      ).map(([name, r]) =>
        r
          ? [
              name,
              round(r.enqueueSeconds, 3),
              round(r.seconds, 3),
              Math.round(r.tasksPerS),
              r.ratio ?? 'n/a',
              ...(several ? [r.ratioRange] : []),
              round(r.p50Ms, 3),
              round(r.p99Ms, 3),
              r.maxConcurrentSameLane,
            ]
          : [name, 'not run'],
      ),
    ],
  );
  printResult({
    scenario: 'peer',
    rounds,
    bullmq_tasks_per_s: bullmq ? Math.round(bullmq.tasksPerS) : null,
    sqlite_tasks_per_s: sqlite ? Math.round(sqlite.tasksPerS) : null,
    postgres_tasks_per_s: postgres ? Math.round(postgres.tasksPerS) : null,
    sqlite_ratio: sqlite?.ratio ?? null,
    postgres_ratio: postgres?.ratio ?? null,
    bullmq_p99_ms: bullmq ? round(bullmq.p99Ms, 3) : null,
    sqlite_p99_ms: sqlite ? round(sqlite.p99Ms, 3) : null,
    postgres_p99_ms: postgres ? round(postgres.p99Ms, 3) : null,
    max_concurrent_same_lane: Math.max(
      sqlite?.maxConcurrentSameLane ?? 0,
      postgres?.maxConcurrentSameLane ?? 0,
    ),
  });
}
