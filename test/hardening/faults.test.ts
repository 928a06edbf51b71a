import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { TailorClient, type Task } from '../../src/client/index.js';
import type { SqliteStore } from '../../src/store/sqlite/index.js';
import { childNode, readJournal as journal, spawnServer, type Child } from '../helpers/child.js';
import { TEST_TYPES, eventually, startTestServer, waitForStatus } from '../helpers/server.js';
import { assertEnvelope, jsonHeaders, openSocket, request, wsUrl } from './harness.js';

/** Statuses straight from the database file of a killed server, before anything restarts. */
function statusesOnDisk(dbFile: string): Map<string, string> {
  const db = new Database(dbFile, { readonly: true });
  try {
    const rows = db.prepare('SELECT id, status FROM tasks').all() as {
      id: string;
      status: string;
    }[];
    return new Map(rows.map((r) => [r.id, r.status]));
  } finally {
    db.close();
  }
}

/**
 * After a SIGKILL and a restart: every acknowledged task exists, no task that was completed on
 * disk at the kill starts again, every lane still runs a new task.
 */
async function killAndCheck(
  burst: (client: TailorClient, file: string) => Promise<Task[]>,
): Promise<void> {
  const { dataDir, journal: file, env } = childNode('fault-node');
  let server: Child = await spawnServer('./child-server.ts', env);
  try {
    const acknowledged = await burst(new TailorClient({ baseUrl: server.url }), file);
    assert.equal(await server.kill('SIGKILL'), null);
    const onDisk = statusesOnDisk(join(dataDir, 'tailor.db'));
    const completedAtKill = [...onDisk]
      .filter(([, status]) => status === 'completed')
      .map(([id]) => id);
    const linesAtKill = journal(file).length;

    server = await spawnServer('./child-server.ts', env);
    const client = new TailorClient({ baseUrl: server.url });
    for (const task of acknowledged) {
      const after = await waitForStatus(client, task.id, ['completed', 'failed'], 60_000);
      assert.ok(after, `acknowledged task ${task.id} is still there`);
    }
    const restarted = journal(file)
      .slice(linesAtKill)
      .filter((e) => e.event === 'start')
      .map((e) => e.id);
    for (const id of completedAtKill)
      assert.ok(!restarted.includes(id), `completed task ${id} ran again`);
    for (const type of TEST_TYPES) {
      const fresh = await client.createTask(type, { label: 'after restart' });
      await waitForStatus(client, fresh.id, ['completed'], 30_000);
    }
    console.log(
      `SIGKILL: ${acknowledged.length} acknowledged, ${completedAtKill.length} completed at the kill, ` +
        `${restarted.length} starts after restart`,
    );
  } finally {
    await server.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe('faults', () => {
  test('SIGKILL during a log burst loses no acknowledged task and blocks no lane', async () => {
    await killAndCheck(async (client, file) => {
      const tasks: Task[] = [];
      for (const type of TEST_TYPES)
        tasks.push(await client.createTask(type, { logs: 50_000, logBytes: 200, ms: 5_000 }));
      for (const type of TEST_TYPES) tasks.push(await client.createTask(type, { logs: 10 }));
      // The executor logs synchronously right after its journal line: kill as soon as it starts.
      await eventually(
        () => journal(file).some((e) => e.event === 'start' && e.id === tasks[0]!.id),
        30_000,
        'the log burst to start',
      );
      return tasks;
    });
  });

  test('SIGKILL during a burst of finishes never re-runs a completed task', async () => {
    await killAndCheck(async (client, file) => {
      const tasks = await Promise.all(
        Array.from({ length: 150 }, (_, i) =>
          client.createTask(TEST_TYPES[i % TEST_TYPES.length]!, { ms: 20 }),
        ),
      );
      await eventually(
        () => journal(file).filter((e) => e.event === 'end').length >= 20,
        30_000,
        'finishes',
      );
      return tasks;
    });
  });

  test('an executor that never settles and ignores its AbortSignal: cancelled after the grace, lane moves on, again and again', async () => {
    const s = await startTestServer({ config: { graceMs: 100 } });
    try {
      for (let i = 0; i < 10; i++) {
        const hung = await s.client.createTask('alpha', { gate: `never-${i}`, ignoreAbort: true });
        const next = await s.client.createTask('alpha', { label: `next-${i}` });
        await s.gates.entered(`never-${i}`);
        const stopped = await s.client.stopTask(hung.id);
        assert.equal(stopped.status, 'cancelled');
        // The lane is only claimed again once the hung run has left the scheduler's run map.
        await waitForStatus(s.client, next.id, ['completed']);
      }
      const cancelledLogs = (await s.client.getTasks({ status: 'cancelled', page_size: 100 }))
        .tasks;
      assert.equal(cancelledLogs.length, 10);
      // Executors that throw synchronously or reject fail their task and free the lane too.
      const sync = await s.client.createTask('alpha', { throwSync: true });
      const rejects = await s.client.createTask('alpha', { fail: 'boom' });
      const last = await s.client.createTask('alpha', {});
      assert.match(
        (await waitForStatus(s.client, sync.id, ['failed'])).error_message ?? '',
        /synchronously/,
      );
      assert.match(
        (await waitForStatus(s.client, rejects.id, ['failed'])).error_message ?? '',
        /boom/,
      );
      await waitForStatus(s.client, last.id, ['completed']);
    } finally {
      for (let i = 0; i < 10; i++) s.gates.open(`never-${i}`);
      await s.dispose();
    }
  });

  test('a read-only database: creates get a clean 503 envelope, nothing crashes, and it recovers', async () => {
    // As root, chmod cannot make the file read-only (root ignores permissions), so the store's own
    // connection is switched to query_only: every write fails with SQLITE_READONLY, as it would.
    if (process.getuid?.() === 0)
      console.log('read-only database: running as root; simulated with PRAGMA query_only');
    const s = await startTestServer();
    const db = (s.store as SqliteStore).db.raw;
    try {
      const running = await s.client.createTask('alpha', { gate: 'ro' });
      await s.gates.entered('ro');
      db.pragma('query_only = ON');
      const refused = await request(`${s.url}/api/task/create`, {
        method: 'POST',
        headers: jsonHeaders(),
        body: JSON.stringify({ type: 'beta', config: {} }),
      });
      assertEnvelope(refused, 'create on a read-only database');
      assert.equal(refused.status, 503, refused.text);
      assert.equal(
        (
          await request(`${s.url}/api/task/get`, {
            method: 'POST',
            headers: jsonHeaders(),
            body: JSON.stringify({ task_id: running.id }),
          })
        ).status,
        200,
      );
      // The running task finishes while its write is refused: the scheduler keeps it and retries.
      s.gates.open('ro');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await s.client.getTask(running.id)).status, 'running');
      db.pragma('query_only = OFF');
      await waitForStatus(s.client, running.id, ['completed']);
      const after = await s.client.createTask('beta', {});
      await waitForStatus(s.client, after.id, ['completed']);
      assert.equal((await request(`${s.url}/health`)).status, 200);
    } finally {
      db.pragma('query_only = OFF');
      await s.dispose();
    }
  });

  test('a WebSocket client that connects 1,000 times and drops leaves the hub empty', async () => {
    const s = await startTestServer();
    try {
      const rss = (): number => Math.round(process.memoryUsage().rss / 1024 / 1024);
      const before = rss();
      for (let batch = 0; batch < 20; batch++) {
        const sockets = await Promise.all(
          Array.from({ length: 50 }, () => openSocket(wsUrl(s.url))),
        );
        sockets.forEach((ws, i) => {
          ws.send(JSON.stringify({ type: 'subscribe_all' }));
          // Half leave politely, half vanish.
          if (i % 2) ws.close();
          else ws.terminate();
        });
      }
      await eventually(() => s.app.hub.size === 0, 30_000, 'the hub to forget every client');
      global.gc?.();
      console.log(
        `1,000 WebSocket connect/drop: RSS ${before} MiB before, ${rss()} MiB after; hub size ${s.app.hub.size}`,
      );
      const t = await s.client.createTask('alpha', {});
      await waitForStatus(s.client, t.id, ['completed']);
    } finally {
      await s.dispose();
    }
  });
});
