import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { builtInModules } from '../../src/executors/index.js';
import { startTestServer, waitForStatus, type TestServer } from '../helpers/server.js';
import {
  assertEnvelope,
  closed,
  collect,
  jsonHeaders,
  openSocket,
  request,
  roundTrip,
  wsUrl,
} from './harness.js';

/** Every limit answers with a clear error instead of a 500 or a hang. */
describe('each limit gives a clear error', () => {
  let s: TestServer;
  before(async () => {
    // Default body limit (1 MiB); small WebSocket limits so the test stays quick.
    // The built-in modules too (generate's configs API has limits of its own).
    s = await startTestServer({
      server: {
        hubLimits: { maxMessagesPerSecond: 50, maxSubscriptions: 3 },
        modules: builtInModules,
      },
    });
  });
  after(() => s.dispose());

  const post = (path: string, body: string) =>
    request(s.url + path, { method: 'POST', headers: jsonHeaders(), body });
  const codeOf = (r: { json: unknown }) =>
    (r.json as { status: { code: number; message: string } }).status;

  test('a body over the default 1 MiB limit → 413 BODY_TOO_LARGE', async () => {
    const response = await post(
      '/api/task/create',
      JSON.stringify({ type: 'alpha', config: { label: 'x'.repeat(1_100_000) } }),
    );
    assert.equal(response.status, 413);
    assertEnvelope(response, '413');
    assert.equal(codeOf(response).code, 41300);
  });

  test('a body nested deeper than 32 levels → 400 naming the limit', async () => {
    const deep = '{"a":'.repeat(33) + '1' + '}'.repeat(33);
    const response = await post('/api/task/create', `{"type":"alpha","config":{"result":${deep}}}`);
    assert.equal(response.status, 400);
    assert.match(codeOf(response).message, /deeper than 32/);
    // 30 levels are fine.
    const ok = '{"a":'.repeat(28) + '1' + '}'.repeat(28);
    assert.equal(
      (await post('/api/task/create', `{"type":"alpha","config":{"result":${ok}}}`)).status,
      200,
    );
  });

  test('page sizes: tasks 101, logs limit 1001, configs page_size=101 → 400 naming the field', async () => {
    const tasks = await post('/api/tasks', '{"pagination":{"page":1,"page_size":101}}');
    assert.equal(tasks.status, 400);
    assert.match(codeOf(tasks).message, /page_size/);
    const t = await s.client.createTask('beta', {});
    const logs = await post('/api/task/logs', JSON.stringify({ task_id: t.id, limit: 1001 }));
    assert.equal(logs.status, 400);
    assert.match(codeOf(logs).message, /limit/);
    const configs = await request(`${s.url}/api/configs?page_size=101`);
    assert.equal(configs.status, 400);
    assert.match(codeOf(configs).message, /page_size/);
    const page = await post('/api/tasks', '{"pagination":{"page":1000001}}');
    assert.equal(page.status, 400);
  });

  test('string limits: a config name over 200 chars → 400; a log line over 16 KiB is stored truncated', async () => {
    const name = await post('/api/configs', JSON.stringify({ name: 'n'.repeat(201), prompt: 'p' }));
    assert.equal(name.status, 400);
    assert.match(codeOf(name).message, /name/);
    const t = await s.client.createTask('gamma', { logs: 1, logBytes: 40_000 });
    await waitForStatus(s.client, t.id, ['completed']);
    const { logs } = await s.client.getLogs(t.id);
    const long = logs.find((l) => l.message.startsWith('line 1'))!;
    assert.ok(long.message.length <= 16 * 1024 + 20, `stored ${long.message.length} chars`);
    assert.match(long.message, /truncated/);
  });

  test('a WebSocket message over 64 KiB closes the connection with 1009', async () => {
    const ws = await openSocket(wsUrl(s.url));
    const done = closed(ws);
    ws.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(70 * 1024) }));
    assert.equal((await done).code, 1009);
  });

  test('more WebSocket messages per second than allowed closes the connection with 1008', async () => {
    const ws = await openSocket(wsUrl(s.url));
    const done = closed(ws);
    for (let i = 0; i < 200; i++) ws.send('{"type":"ping"}');
    const { code, reason } = await done;
    assert.equal(code, 1008);
    assert.match(reason, /too many/);
  });

  test('subscriptions past the limit get an error message; the connection stays usable', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await s.client.createTask('delta', {})).id);
    const ws = await openSocket(wsUrl(s.url));
    const messages = collect(ws);
    for (const id of ids) ws.send(JSON.stringify({ type: 'subscribe_task', task_id: id }));
    await roundTrip(ws, messages);
    // The snapshot reads are asynchronous: wait until each subscription has answered.
    const deadline = Date.now() + 10_000;
    const answered = () =>
      messages.filter((m) => ['task_status', 'error'].includes((m as { type: string }).type))
        .length;
    while (answered() < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const errors = messages.filter((m) => (m as { type: string }).type === 'error') as {
      message: string;
    }[];
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /at most 3 task subscriptions/);
    ws.send(JSON.stringify({ type: 'unsubscribe_task', task_id: ids[0] }));
    ws.send(JSON.stringify({ type: 'subscribe_task', task_id: ids[3] }));
    await roundTrip(ws, messages);
    assert.equal(ws.readyState, ws.OPEN);
    ws.close();
  });
});
