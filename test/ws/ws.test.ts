import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import type { ServerMessage } from '../../src/client/index.js';
import { eventually, startTestServer, waitForStatus } from '../helpers/server.js';

function open(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws') + '/ws', { headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

/** A client subscribed to everything that then never reads again. */
async function openStuck(url: string): Promise<WebSocket> {
  const ws = await open(url);
  ws.send(JSON.stringify({ type: 'subscribe_all' }));
  (ws as unknown as { _socket: { pause(): void } })._socket.pause();
  return ws;
}

/** Wait until a message already received, or still to come, matches. */
async function seen(
  messages: ServerMessage[],
  predicate: (m: ServerMessage) => boolean,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!messages.some(predicate)) {
    if (Date.now() > deadline) throw new Error('expected websocket message did not arrive');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function collect(ws: WebSocket): ServerMessage[] {
  const messages: ServerMessage[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(data.toString()) as ServerMessage));
  return messages;
}

describe('websocket', () => {
  test('a subscriber gets the current status first, then every transition of the task in order', async () => {
    const s = await startTestServer();
    try {
      await s.client.createTask('alpha', { gate: 'first' });
      await s.gates.entered('first');
      const t = await s.client.createTask('alpha', { progress: [10, 20, 30], logs: 3 });
      const feed = await s.client.connect();
      const messages: ServerMessage[] = [];
      feed.onMessage((m) => messages.push(m));
      feed.subscribeTask(t.id);
      await feed.waitFor((m) => m.type === 'task_status' && m.task_id === t.id);
      s.gates.open('first');
      await feed.waitFor(
        (m) => m.type === 'task_status' && m.task_id === t.id && m.status === 'completed',
      );
      const statuses = messages.flatMap((m) => (m.type === 'task_status' ? [m] : []));
      assert.equal(statuses[0]!.status, 'pending', 'snapshot first');
      const order = statuses.map((m) => m.status).filter((st, i, all) => st !== all[i - 1]);
      assert.deepEqual(order, ['pending', 'running', 'completed']);
      const versions = statuses.map((m) => m.version);
      assert.deepEqual(
        versions,
        [...versions].sort((a, b) => a - b),
        'versions increase',
      );
      const progress = statuses.map((m) => m.progress);
      for (let i = 1; i < progress.length; i++) assert.ok(progress[i]! >= progress[i - 1]!);
      const logs = messages.flatMap((m) => (m.type === 'task_log' ? [m.seq] : []));
      assert.deepEqual(
        logs,
        logs.map((_, i) => i + 1),
      );
      const lastLog = messages.findLastIndex((m) => m.type === 'task_log');
      const completed = messages.findIndex(
        (m) => m.type === 'task_status' && m.status === 'completed',
      );
      assert.ok(lastLog < completed, 'every log line arrives before the terminal status');
      feed.close();
    } finally {
      await s.dispose();
    }
  });

  test('subscribe_all receives created, status and deleted events of every task', async () => {
    const s = await startTestServer();
    try {
      const feed = await s.client.connect();
      const messages: ServerMessage[] = [];
      feed.onMessage((m) => messages.push(m));
      feed.subscribeAll();
      feed.send({ type: 'ping' });
      await feed.waitFor((m) => m.type === 'pong');
      const a = await s.client.createTask('alpha', {});
      const b = await s.client.createTask('beta', {});
      await waitForStatus(s.client, a.id, ['completed']);
      await waitForStatus(s.client, b.id, ['completed']);
      await s.client.deleteTask(a.id);
      await seen(messages, (m) => m.type === 'task_deleted' && m.task_id === a.id);
      for (const id of [a.id, b.id]) {
        assert.ok(messages.some((m) => m.type === 'task_created' && m.task.id === id));
        assert.ok(
          messages.some(
            (m) => m.type === 'task_status' && m.task_id === id && m.status === 'completed',
          ),
        );
      }
      feed.close();
    } finally {
      await s.dispose();
    }
  });

  test('malformed messages get an error and the connection stays open', async () => {
    const s = await startTestServer();
    try {
      const ws = await open(s.url);
      const messages = collect(ws);
      for (const bad of [
        'not json',
        '[]',
        '42',
        '{"type":"explode"}',
        '{"type":"subscribe_task"}',
        '{"type":"subscribe_task","task_id":"../../etc"}',
        '{"type":"subscribe_task","task_id":"missing"}',
      ]) {
        ws.send(bad);
      }
      ws.send(JSON.stringify({ type: 'ping' }));
      await seen(messages, (m) => m.type === 'pong');
      assert.equal(messages.filter((m) => m.type === 'error').length, 7);
      assert.equal(ws.readyState, WebSocket.OPEN);
      ws.close();
    } finally {
      await s.dispose();
    }
  });

  test('a client that never reads does not delay tasks or other clients, and is dropped', async () => {
    const s = await startTestServer({
      server: {
        hubLimits: {
          maxQueuedMessages: 200,
          stallMs: 500,
          hardMaxQueuedMessages: 1_000_000,
          highWaterBytes: 64 * 1024,
        },
      },
    });
    try {
      // Stops reading: the kernel buffers fill, then the server-side queue, then it is dropped.
      const stuck = await openStuck(s.url);
      const healthy = await s.client.connect();
      const received: ServerMessage[] = [];
      healthy.onMessage((m) => received.push(m));
      healthy.subscribeAll();
      healthy.send({ type: 'ping' });
      await healthy.waitFor((m) => m.type === 'pong');
      const ids: string[] = [];
      for (let i = 0; i < 8; i++)
        ids.push((await s.client.createTask('alpha', { logs: 400, logBytes: 8000 })).id);
      for (const id of ids) await waitForStatus(s.client, id, ['completed'], 60_000);
      await seen(
        received,
        (m) => m.type === 'task_status' && m.task_id === ids.at(-1) && m.status === 'completed',
      );
      const logCount = received.filter((m) => m.type === 'task_log').length;
      const stored = (
        await Promise.all(ids.map((id) => s.client.getLogs(id, { limit: 1000 })))
      ).reduce((n, r) => n + r.logs.length, 0);
      assert.equal(logCount, stored, 'the healthy client received every log line');
      assert.equal(s.app.hub.size, 1, 'the stuck client was dropped');
      healthy.close();
      stuck.terminate();
    } finally {
      await s.dispose();
    }
  });

  test('a client past the hard queue limit is dropped at once, without waiting for the stall timer', async () => {
    const hubLimits = { maxQueuedMessages: 10, stallMs: 3_600_000, hardMaxQueuedMessages: 100 };
    const s = await startTestServer({ server: { hubLimits } });
    try {
      const stuck = await openStuck(s.url);
      const task = await s.client.createTask('alpha', { logs: 400, logBytes: 8000 });
      await waitForStatus(s.client, task.id, ['completed'], 60_000);
      await eventually(() => s.app.hub.size === 0, 20_000, 'the stuck client to be dropped');
      // Nothing else was affected: the next task runs and is announced as usual.
      const next = await s.client.createTask('alpha', {});
      await waitForStatus(s.client, next.id, ['completed']);
      stuck.terminate();
    } finally {
      await s.dispose();
    }
  });

  test('an upgrade from a foreign Origin is refused; the same origin is accepted', async () => {
    const s = await startTestServer();
    try {
      await assert.rejects(open(s.url, { origin: 'https://evil.example' }), /HTTP 403/);
      const host = new URL(s.url).host;
      const ws = await open(s.url, { origin: `http://${host}` });
      ws.close();
    } finally {
      await s.dispose();
    }
  });
});
