import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { Type } from 'typebox';
import { createLogger } from '../../src/logging.js';
import type { ExecutorDefinition } from '../../src/scheduler/executor.js';
import { startTestServer, waitForStatus, type TestServer } from '../helpers/server.js';
import { collect, openSocket, request, wsUrl } from './harness.js';

const COOKIE = 'PHPSESSID=cookie-value-4f9a1c';
const TOKEN = 'tok-e8d1b2c3a4f5';
const PASSWORD = 'hunter2-pass-77aa';
const PROXY_PASSWORD = 'proxy-pw-19c0de';
const PROXY = `http://alice:${PROXY_PASSWORD}@proxy.internal:8080`;
const SECRETS = [COOKIE, TOKEN, PASSWORD, PROXY_PASSWORD, 'cookie-value-4f9a1c'];

/** An executor that does everything careless code does with credentials. */
const leaky: ExecutorDefinition = {
  type: 'leaky',
  description: 'uses secrets and talks about them',
  schema: Type.Object(
    {
      cookie: Type.String(),
      token: Type.String(),
      password: Type.String(),
      proxy: Type.String(),
      nested: Type.Optional(Type.Object({ api_key: Type.String() })),
      fail: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
  async run(ctx) {
    const c = ctx.config as Record<string, string>;
    ctx.log('info', `requesting with Cookie: ${c.cookie}`);
    ctx.log('debug', `token=${c.token} password=${c.password}`);
    ctx.log('warn', `through proxy ${c.proxy}`);
    ctx.progress(50, `half way with ${c.cookie}`);
    await new Promise((r) => setTimeout(r, 30));
    if (ctx.config.fail) throw new Error(`login failed for ${c.password} via ${c.proxy}`);
    return { used: `cookie ${String(c.cookie)}`, proxy: String(c.proxy) };
  },
};

describe('secrets never leave the process', () => {
  let s: TestServer;
  let logText = '';
  const wsMessages: unknown[] = [];
  const responses: string[] = [];

  before(async () => {
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => (logText += chunk.toString()));
    s = await startTestServer({
      config: { logLevel: 'debug', proxy: PROXY, pixivCookie: COOKIE },
      executors: () => [leaky],
      server: { logger: createLogger('debug', stream) },
    });
  });
  after(() => s.dispose());

  const post = async (path: string, body: unknown): Promise<unknown> => {
    const response = await request(s.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    responses.push(response.text);
    return response.json;
  };

  test('a task with cookie, token, password and a proxy URL with credentials runs, succeeds and fails', async () => {
    const ws = await openSocket(wsUrl(s.url));
    const messages = collect(ws);
    ws.send(JSON.stringify({ type: 'subscribe_all' }));
    await new Promise((r) => setTimeout(r, 20));
    const config = {
      cookie: COOKIE,
      token: TOKEN,
      password: PASSWORD,
      proxy: PROXY,
      nested: { api_key: TOKEN },
    };
    const ids: string[] = [];
    for (const fail of [false, true]) {
      const created = (await post('/api/task/create', {
        type: 'leaky',
        config: { ...config, fail },
      })) as {
        data: { id: string };
      };
      ids.push(created.data.id);
      ws.send(JSON.stringify({ type: 'subscribe_task', task_id: created.data.id }));
    }
    await waitForStatus(s.client, ids[0]!, ['completed']);
    await waitForStatus(s.client, ids[1]!, ['failed']);
    for (const id of ids) {
      await post('/api/task/get', { task_id: id });
      await post('/api/status', { task_id: id });
      await post('/api/task/logs', { task_id: id });
    }
    await post('/api/tasks', {});
    await post('/api/task/start', { task_id: ids[1] });
    await waitForStatus(s.client, ids[1]!, ['failed']);
    await post('/api/task/logs', { task_id: ids[1] });
    responses.push((await request(`${s.url}/openapi.json`)).text);
    responses.push((await request(`${s.url}/metrics`)).text);
    responses.push((await request(`${s.url}/health`)).text);
    ws.close();
    wsMessages.push(...messages);
    const logs = (await s.client.getLogs(ids[0]!)).logs.map((l) => l.message);
    assert.ok(
      logs.some((m) => m.includes('[redacted]')),
      'the log lines are kept, with the secret replaced',
    );
  });

  const assertClean = (what: string, text: string): void => {
    for (const secret of SECRETS)
      assert.ok(
        !text.includes(secret),
        `${what} contains ${secret}: …${text.slice(Math.max(0, text.indexOf(secret) - 80), text.indexOf(secret) + 40)}…`,
      );
  };

  test('not in any API response (task, status, list, logs, result, error, OpenAPI, metrics)', () => {
    assert.ok(responses.length > 10);
    for (const text of responses) assertClean('response', text);
  });

  test('not in any WebSocket message', () => {
    assert.ok(wsMessages.some((m) => (m as { type: string }).type === 'task_log'));
    assert.ok(wsMessages.some((m) => (m as { type: string }).type === 'task_created'));
    for (const m of wsMessages) assertClean('websocket message', JSON.stringify(m));
  });

  test('not in the server log output', () => {
    assert.ok(logText.includes('task finished'), 'the logger captured the run');
    assertClean('server log', logText);
  });
});
