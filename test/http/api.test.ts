import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { rawPost, startTestServer, waitForStatus, type TestServer } from '../helpers/server.js';

describe('bad input gets a clear enveloped error and never hurts the server', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ config: { bodyLimit: 4096 } });
  });
  after(() => s.dispose());

  const cases: {
    name: string;
    path: string;
    body: string;
    headers?: Record<string, string>;
    http: number;
    code: number;
    mentions?: string;
  }[] = [
    { name: 'invalid JSON', path: '/api/status', body: '{"task_id": ', http: 400, code: 40001 },
    { name: 'an empty body', path: '/api/status', body: '', http: 400, code: 40001 },
    {
      name: 'a number where a task id belongs (no coercion)',
      path: '/api/status',
      body: '{"task_id": 42}',
      http: 400,
      code: 40000,
      mentions: '/task_id',
    },
    {
      name: 'a missing field',
      path: '/api/task/stop',
      body: '{}',
      http: 400,
      code: 40000,
      mentions: 'task_id',
    },
    {
      name: 'an unknown field',
      path: '/api/cancel',
      body: '{"task_id":"abc","force":true}',
      http: 400,
      code: 40000,
      mentions: 'force',
    },
    {
      name: 'a task id that is not URL-safe',
      path: '/api/status',
      body: '{"task_id":"../../etc/passwd"}',
      http: 400,
      code: 40000,
      mentions: '/task_id',
    },
    {
      name: 'an unknown task id',
      path: '/api/status',
      body: '{"task_id":"does-not-exist"}',
      http: 404,
      code: 40400,
    },
    { name: 'an array body', path: '/api/tasks', body: '[]', http: 400, code: 40000 },
    {
      name: 'a page size over 100',
      path: '/api/tasks',
      body: '{"pagination":{"page":1,"page_size":101}}',
      http: 400,
      code: 40000,
      mentions: 'page_size',
    },
    {
      name: 'a string page',
      path: '/api/tasks',
      body: '{"pagination":{"page":"1"}}',
      http: 400,
      code: 40000,
      mentions: 'page',
    },
    {
      name: 'an unknown status filter',
      path: '/api/tasks',
      body: '{"status":"paused"}',
      http: 400,
      code: 40000,
      mentions: 'status',
    },
    {
      name: 'an unknown cleanup type',
      path: '/api/task/cleanup',
      body: '{"cleanup_type":"running"}',
      http: 400,
      code: 40000,
      mentions: 'cleanup_type',
    },
    {
      name: 'an unknown task type',
      path: '/api/task/create',
      body: '{"type":"train","config":{}}',
      http: 501,
      code: 50100,
    },
    {
      name: 'a config that is not an object',
      path: '/api/task/create',
      body: '{"type":"alpha","config":"x"}',
      http: 400,
      code: 40000,
      mentions: 'config',
    },
    {
      name: 'a priority of the wrong type',
      path: '/api/task/create',
      body: '{"type":"alpha","config":{},"priority":"9"}',
      http: 400,
      code: 40000,
      mentions: 'priority',
    },
    {
      name: 'max_attempts out of range',
      path: '/api/task/create',
      body: '{"type":"alpha","config":{},"max_attempts":0}',
      http: 400,
      code: 40000,
      mentions: 'max_attempts',
    },
    {
      name: 'a __proto__ key',
      path: '/api/task/create',
      body: '{"type":"alpha","config":{"__proto__":{"polluted":true}}}',
      http: 400,
      code: 40001,
    },
    {
      name: 'a constructor.prototype key',
      path: '/api/task/create',
      body: '{"type":"alpha","config":{"constructor":{"prototype":{"polluted":true}}}}',
      http: 400,
      code: 40001,
    },
    {
      name: 'an oversized body',
      path: '/api/task/create',
      body: JSON.stringify({ type: 'alpha', config: { label: 'x'.repeat(10_000) } }),
      http: 413,
      code: 41300,
    },
    {
      name: 'a text/plain body',
      path: '/api/status',
      body: '{"task_id":"a"}',
      headers: { 'content-type': 'text/plain' },
      http: 415,
      code: 41500,
    },
    {
      name: 'an HTML form post',
      path: '/api/task/cleanup',
      body: 'cleanup_type=all',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      http: 415,
      code: 41500,
    },
    { name: 'an unknown route', path: '/api/nothing', body: '{}', http: 404, code: 40401 },
  ];

  for (const c of cases) {
    test(`${c.name} → ${c.http} with code ${c.code}`, async () => {
      const response = await rawPost(s.url, c.path, c.body, c.headers);
      assert.equal(response.status, c.http, response.text);
      assert.equal(response.body?.status.code, c.code, response.text);
      assert.ok((response.body?.status.message ?? '').length > 0);
      if (c.mentions)
        assert.ok(
          response.body!.status.message.includes(c.mentions),
          response.body!.status.message,
        );
    });
  }

  test('after all of that the server is healthy, nothing was polluted, and tasks still run', async () => {
    const health = await fetch(`${s.url}/health`);
    assert.equal(health.status, 200);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    const t = await s.client.createTask('alpha', {});
    await waitForStatus(s.client, t.id, ['completed']);
    assert.equal((await s.client.getTasks()).pagination.total, 1);
  });
});

describe('documentation and observability', () => {
  test('the OpenAPI document is generated from the route schemas', async () => {
    const s = await startTestServer();
    try {
      const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as {
        openapi: string;
        paths: Record<
          string,
          Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>
        >;
        components: { schemas: Record<string, unknown> };
      };
      assert.match(doc.openapi, /^3\./);
      for (const path of [
        '/api/tasks',
        '/api/status',
        '/api/task/start',
        '/api/task/stop',
        '/api/cancel',
        '/api/delete',
        '/api/task/cleanup',
        '/api/task/logs',
        '/api/task/create',
      ]) {
        assert.ok(doc.paths[path]?.post?.requestBody, `${path} has a documented body`);
        assert.ok(
          doc.paths[path]!.post!.responses['200'] && doc.paths[path]!.post!.responses['400'],
          `${path} documents its responses`,
        );
      }
      assert.ok(doc.components.schemas.Task && doc.components.schemas.Error);
      assert.equal((await fetch(`${s.url}/docs/`)).status, 200);
    } finally {
      await s.dispose();
    }
  });

  test('health reports the database, and metrics count tasks by type and status', async () => {
    const s = await startTestServer();
    try {
      const health = (await (await fetch(`${s.url}/health`)).json()) as {
        status: string;
        db: string;
        store: string;
      };
      assert.deepEqual([health.status, health.db, health.store], ['ok', 'ok', 'sqlite']);
      const t = await s.client.createTask('beta', {});
      await waitForStatus(s.client, t.id, ['completed']);
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      assert.match(metrics, /tailor_tasks_created_total\{type="beta"\} 1/);
      assert.match(metrics, /tailor_tasks_finished_total\{type="beta",status="completed"\} 1/);
    } finally {
      await s.dispose();
    }
  });
});

describe('authentication', () => {
  const token = 'a-long-enough-test-token';

  test('with a token, every route but /health needs the bearer token; wrong tokens are refused', async () => {
    const s = await startTestServer({ config: { token } });
    try {
      assert.equal((await fetch(`${s.url}/health`)).status, 200);
      const none = await rawPost(s.url, '/api/tasks', '{}');
      assert.equal(none.status, 401);
      assert.equal(none.body?.status.code, 40100);
      const wrong = await rawPost(s.url, '/api/tasks', '{}', {
        'content-type': 'application/json',
        authorization: 'Bearer nope-nope-nope-nope',
      });
      assert.equal(wrong.status, 401);
      const right = await rawPost(s.url, '/api/tasks', '{}', {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
      });
      assert.equal(right.status, 200);
      assert.equal((await fetch(`${s.url}/metrics`)).status, 401);
      assert.equal((await fetch(`${s.url}/openapi.json`)).status, 401);
    } finally {
      await s.dispose();
    }
  });

  test('with a token, a WebSocket upgrade needs it (header or query)', async () => {
    const s = await startTestServer({ config: { token } });
    try {
      const wsUrl = s.url.replace('http', 'ws') + '/ws';
      const attempt = (url: string, headers: Record<string, string> = {}) =>
        new Promise<number>((resolve) => {
          const ws = new WebSocket(url, { headers });
          ws.once('open', () => {
            ws.close();
            resolve(101);
          });
          ws.once('unexpected-response', (req, res) => {
            req.destroy();
            resolve(res.statusCode ?? 0);
          });
          ws.once('error', () => resolve(-1));
        });
      assert.equal(await attempt(wsUrl), 401);
      assert.equal(await attempt(wsUrl, { authorization: 'Bearer wrong-wrong-wrong-wrong' }), 401);
      assert.equal(await attempt(wsUrl, { authorization: `Bearer ${token}` }), 101);
      assert.equal(await attempt(`${wsUrl}?token=${token}`), 101);
    } finally {
      await s.dispose();
    }
  });
});
