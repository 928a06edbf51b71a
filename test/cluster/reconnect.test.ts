import assert from 'node:assert/strict';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import type { ServerMessage } from '../../src/client/index.js';
import { eventually, waitForStatus } from '../helpers/server.js';
import { admin, postgresSkipReason, TEST_PG_URL } from '../store/pg-harness.js';
import { Cluster, executions } from './harness.js';

const skip = await postgresSkipReason();

/** A TCP proxy in front of PostgreSQL that a test can cut and restore: a network outage. */
class Outage {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  /** Local ports of the proxy's connections to PostgreSQL (`client_port` in pg_stat_activity). */
  readonly upstreamPorts = new Set<number>();
  port = 0;
  private readonly target = new URL(TEST_PG_URL);

  async up(): Promise<void> {
    const server = createServer((client) => {
      const upstream = createConnection({
        host: this.target.hostname,
        port: Number(this.target.port || 5432),
      });
      upstream.on(
        'connect',
        () => upstream.localPort && this.upstreamPorts.add(upstream.localPort),
      );
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          this.sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    this.upstreamPorts.clear();
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}

async function health(url: string): Promise<number> {
  try {
    return (await fetch(`${url}/health`)).status;
  } catch {
    return 0;
  }
}

describe('a node that loses its database connection', { skip }, () => {
  let cluster: Cluster | undefined;
  const outage = new Outage();
  after(async () => {
    await outage.down();
    await cluster?.dispose();
  });

  test(
    'reports unhealthy while the database is unreachable, reconnects, LISTENs again and catches up on what it missed',
    { timeout: 120_000 },
    async () => {
      cluster = await Cluster.create();
      await outage.up();
      const viaProxy = new URL(cluster.schema.url);
      viaProxy.port = String(outage.port);
      const [direct, cut] = await cluster.start(
        { id: 'direct', executors: ['alpha'] },
        { id: 'cut', executors: ['beta'], db: viaProxy.toString() },
      );
      assert.equal(await health(cut!.url), 200);
      const before = await direct!.client.createTask('beta', { ms: 5, label: 'before' });
      await waitForStatus(direct!.client, before.id, ['completed']);

      await outage.down();
      await eventually(
        async () => (await health(cut!.url)) === 503,
        30_000,
        '/health to report the database unreachable',
      );
      // Queued while the node cannot hear anything: picked up when it reconnects.
      const missed = await direct!.client.createTask('beta', { ms: 5, label: 'missed' });

      await outage.up();
      await eventually(async () => (await health(cut!.url)) === 200, 60_000, '/health to recover');
      await waitForStatus(direct!.client, missed.id, ['completed'], 60_000);
      await eventually(
        async () => {
          const { rows } = await admin(
            `SELECT 1 FROM pg_stat_activity WHERE application_name = 'pixivtailor-listen' AND client_port = ANY ($1::int[]) AND query LIKE 'LISTEN%'`,
            [[...outage.upstreamPorts]],
          );
          return rows.length > 0;
        },
        60_000,
        'the LISTEN connection to be re-established',
      );

      // Signals reach it again: a hand-off from the other node (its safety poll is an hour) and the
      // events of a task running there.
      const feed = await cut!.client.connect();
      const messages: ServerMessage[] = [];
      feed.onMessage((message) => messages.push(message));
      feed.subscribeAll();
      try {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const handedOff = await direct!.client.createTask('beta', { ms: 5, label: 'after' });
        const elsewhere = await cut!.client.createTask('alpha', { ms: 5, label: 'elsewhere' });
        await waitForStatus(direct!.client, handedOff.id, ['completed']);
        await waitForStatus(direct!.client, elsewhere.id, ['completed']);
        await eventually(
          () =>
            messages.some(
              (m) =>
                m.type === 'task_status' && m.task_id === elsewhere.id && m.status === 'completed',
            ),
          30_000,
          'the other node’s events on the reconnected node',
        );
      } finally {
        feed.close();
      }
      const ran = executions(cluster.journal()).intervals;
      for (const id of [before.id, missed.id])
        assert.equal(ran.find((i) => i.id === id)?.node, 'cut');
    },
  );
});
