import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Type } from 'typebox';
import type { Flags } from '../lib/args.js';
import { printResult, printTable, round, rssMb } from '../lib/stats.js';
import { startBenchServer } from '../lib/tailor.js';

export interface ClientsReport {
  received: number[];
  latencies: { p50: number; p99: number; max: number };
}

/**
 * `--clients` WebSocket clients (in a child process, so the server keeps its own core) subscribed
 * to everything while tasks change status at `--rate` tasks/s for `--seconds`. Every event the
 * server publishes is expected by every client; latency is the task's `updated_at` (written with
 * the state change) to the moment a client reads the message.
 */
export async function wsScenario(flags: Flags): Promise<void> {
  const clients = flags.int('clients', 1000);
  const seconds = flags.int('seconds', 30);
  const rate = flags.int('rate', 30);
  const types = ['ws0', 'ws1', 'ws2'];
  const bench = await startBenchServer(
    'sqlite',
    types.map((type) => ({ type, schema: Type.Object({}), run: async () => undefined })),
  );
  const { server } = bench;
  try {
    const child = fork(
      fileURLToPath(new URL('../lib/ws-clients.ts', import.meta.url)),
      [server.url.replace(/^http/, 'ws') + '/ws', String(clients)],
      {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    const fromChild = <T>(key: string): Promise<T> =>
      new Promise((resolve) =>
        child.on('message', (message: Record<string, unknown>) => {
          if (key in message) resolve(message[key] as T);
        }),
      );
    await fromChild<true>('ready');

    let events = 0;
    const unsubscribe = server.events.subscribe(() => events++);
    const interval = 1000 / rate;
    const started = performance.now();
    let created = 0;
    let peakRss = rssMb();
    while (performance.now() - started < seconds * 1000) {
      const due = Math.floor((performance.now() - started) / interval);
      for (; created <= due; created++) {
        await server.tasks.create({ type: types[created % types.length]!, config: {} });
      }
      peakRss = Math.max(peakRss, rssMb());
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // Let the last tasks finish and the sockets drain.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    unsubscribe();
    const elapsed = (performance.now() - started) / 1000;
    const report = fromChild<ClientsReport>('report');
    child.send({ report: true });
    const { received, latencies } = await report;
    child.kill();
    const lost = received.reduce((sum, got) => sum + Math.max(0, events - got), 0);
    const complete = received.filter((got) => got >= events).length;
    printTable(`ws — ${clients} clients subscribed to all, ${created} tasks over ${seconds} s`, [
      ['measure', 'value'],
      ['events published', events],
      ['events per second', round(events / elapsed, 1)],
      ['messages delivered', received.reduce((a, b) => a + b, 0)],
      ['clients that got every event', `${complete} / ${clients}`],
      ['events lost (summed over clients)', lost],
      ['delivery p50 (ms)', round(latencies.p50, 1)],
      ['delivery p99 (ms)', round(latencies.p99, 1)],
      ['delivery max (ms)', round(latencies.max, 1)],
      ['server RSS peak (MB)', peakRss],
    ]);
    printResult({
      scenario: 'ws',
      clients,
      events,
      lost,
      p99_ms: round(latencies.p99, 1),
      rss_mb: peakRss,
    });
  } finally {
    await bench.dispose();
  }
}
