import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { builtInModules } from '../../src/executors/index.js';
import { FakeSdWebui } from '../fakes/sd-webui.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { assertEnvelope, request, upgradeStatus, wsUrl } from './harness.js';

const TOKEN = 'hardening-token-0123456789abcdef';
const ALLOWED = 'https://console.example';
const FOREIGN = 'https://evil.example';

interface Route {
  method: string;
  path: string;
}

/** Every route the OpenAPI document lists, with its path parameters filled in. */
async function documentedRoutes(url: string): Promise<Route[]> {
  const doc = (
    await request(`${url}/openapi.json`, { headers: { authorization: `Bearer ${TOKEN}` } })
  ).json as { paths: Record<string, Record<string, unknown>> };
  const routes: Route[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const method of Object.keys(methods)) {
      if (!['get', 'post', 'put', 'delete', 'patch'].includes(method)) continue;
      routes.push({ method: method.toUpperCase(), path: path.replace(/\{[^}]+\}/g, 'x') });
    }
  }
  return routes;
}

describe('with a token, every documented route and the WebSocket need it', () => {
  let s: TestServer;
  let routes: Route[] = [];
  let webui: FakeSdWebui;
  before(async () => {
    // Every built-in module too: its routes are in the matrix as well (generate's peer is a fake).
    webui = await FakeSdWebui.start();
    s = await startTestServer({
      config: { token: TOKEN, allowedOrigins: [ALLOWED], sdWebuiUrl: webui.url },
      server: { modules: builtInModules },
    });
    // Besides the documented routes: the API browser, and an unknown route (401, not 404: an
    // unauthenticated caller learns nothing about which routes exist).
    routes = [
      ...(await documentedRoutes(s.url)),
      { method: 'GET', path: '/docs/' },
      { method: 'GET', path: '/docs/json' },
      { method: 'POST', path: '/api/nothing' },
    ];
  });
  after(async () => {
    await s.dispose();
    await webui.close();
  });

  test('the OpenAPI document lists the routes (sanity)', () => {
    console.log(`auth matrix: ${routes.length} documented routes`);
    const keys = routes.map((r) => `${r.method} ${r.path}`);
    for (const expected of [
      'POST /api/tasks',
      'POST /api/task/create',
      'GET /api/configs',
      'GET /health',
    ])
      assert.ok(keys.includes(expected), expected);
  });

  for (const [name, headers] of [
    ['no token', {}],
    ['a wrong token', { authorization: 'Bearer wrong-token-0123456789abcdef' }],
    ['a token of the wrong scheme', { authorization: `Basic ${TOKEN}` }],
    ['the token with a suffix', { authorization: `Bearer ${TOKEN}x` }],
    ['an empty bearer', { authorization: 'Bearer ' }],
  ] as const) {
    test(`${name}: every route but /health is a 401 envelope`, async () => {
      for (const route of routes) {
        const response = await request(s.url + route.path, {
          method: route.method,
          headers: { 'content-type': 'application/json', ...headers },
          ...(route.method === 'GET' ? {} : { body: '{}' }),
        });
        const what = `${route.method} ${route.path}`;
        if (route.path === '/health') {
          assert.equal(response.status, 200, what);
          continue;
        }
        assert.equal(response.status, 401, `${what}: HTTP ${response.status}`);
        assertEnvelope(response, what);
        assert.equal((response.json as { status: { code: number } }).status.code, 40100, what);
      }
    });
  }

  test('with the right token no route answers 401', async () => {
    for (const route of routes) {
      const response = await request(s.url + route.path, {
        method: route.method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        ...(route.method === 'GET' ? {} : { body: '{}' }),
      });
      assert.notEqual(response.status, 401, `${route.method} ${route.path}`);
      assert.ok(response.status < 500, `${route.method} ${route.path}: HTTP ${response.status}`);
    }
  });

  test('the WebSocket: none or a wrong token → 401; right token → open; foreign Origin → 403 even with the token', async () => {
    const url = wsUrl(s.url);
    assert.equal(await upgradeStatus(url), 401);
    assert.equal(
      await upgradeStatus(url, { authorization: 'Bearer wrong-token-0123456789abcdef' }),
      401,
    );
    assert.equal(await upgradeStatus(`${url}?token=wrong`), 401);
    assert.equal(await upgradeStatus(url, { authorization: `Bearer ${TOKEN}` }), 101);
    assert.equal(await upgradeStatus(`${url}?token=${TOKEN}`), 101);
    assert.equal(
      await upgradeStatus(url, { authorization: `Bearer ${TOKEN}`, origin: FOREIGN }),
      403,
    );
    assert.equal(
      await upgradeStatus(url, { authorization: `Bearer ${TOKEN}`, origin: 'null' }),
      403,
    );
    assert.equal(
      await upgradeStatus(url, { authorization: `Bearer ${TOKEN}`, origin: ALLOWED }),
      101,
    );
    // The foreign origin does not learn whether the token was right: no token is still a 401.
    assert.equal(await upgradeStatus(url, { origin: FOREIGN }), 401);
  });

  test('CORS: never *, the allow-listed origin gets its headers, a foreign one gets none', async () => {
    for (const route of routes) {
      for (const origin of [ALLOWED, FOREIGN, undefined]) {
        const response = await request(s.url + route.path, {
          method: route.method,
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${TOKEN}`,
            ...(origin ? { origin } : {}),
          },
          ...(route.method === 'GET' ? {} : { body: '{}' }),
        });
        const allow = response.headers.get('access-control-allow-origin');
        const what = `${route.method} ${route.path} from ${origin ?? 'no origin'}`;
        assert.notEqual(allow, '*', what);
        if (origin === ALLOWED) assert.equal(allow, ALLOWED, what);
        else assert.equal(allow, null, what);
      }
    }
    const preflight = await request(`${s.url}/api/tasks`, {
      method: 'OPTIONS',
      headers: { origin: ALLOWED, 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.headers.get('access-control-allow-origin'), ALLOWED);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /authorization/);
    const foreign = await request(`${s.url}/api/tasks`, {
      method: 'OPTIONS',
      headers: { origin: FOREIGN, 'access-control-request-method': 'POST' },
    });
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);
  });
});
