import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { builtInModules } from '../../src/executors/index.js';
import { FakeSdWebui } from '../fakes/sd-webui.js';
import type { Task } from '../../src/client/index.js';
import { startTestServer, waitForStatus, type TestServer } from '../helpers/server.js';
import {
  FUZZ_RUNS,
  assertEnvelope,
  collect,
  openSocket,
  request,
  roundTrip,
  wsUrl,
  jsonHeaders,
} from './harness.js';

/**
 * Hostile input over every route body and every WebSocket message type (malformed input
 * never crashes the process). Each response must be the envelope with a 2xx or 4xx — never a 5xx
 * (501 for a type without an executor is the one documented exception), never a bare body — and
 * afterwards the server is healthy, no prototype was polluted and the tasks it held are unchanged.
 */

/** encodeURIComponent throws on a lone surrogate; a client would send U+FFFD in its place. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const encode = (value: string): string =>
  encodeURIComponent(value.replace(LONE_SURROGATE, '\ufffd'));

const PROTO_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
];

const edgeStrings = fc.constantFrom(
  '',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\ud83dy',
  '\u202eevil\u202c',
  '\u200f\u200e',
  '👩‍👩‍👧‍👦🏳️‍🌈',
  '\uFEFF',
  '\uFFFF',
  '../../../etc/passwd',
  '..\\..\\windows',
  '%2e%2e%2f',
  '/etc/passwd',
  'NaN',
  'Infinity',
  '-0',
  '1e308',
  'true',
  'null',
  '<script>alert(1)</script>',
  "'; DROP TABLE tasks; --",
  '${jndi:ldap://x}',
  '__proto__',
  'a'.repeat(65),
);

const hostileString = fc.oneof(
  edgeStrings,
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.integer({ min: 1_000, max: 200_000 }).map((n) => 'y'.repeat(n)),
);

const hostileNumber = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    1,
    -1,
    1e308,
    -1e308,
    5e-324,
    2 ** 53,
    2 ** 53 + 2,
    -(2 ** 63),
    0.5,
    100,
    101,
    1_000_001,
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

/** Nesting far beyond any schema, kept as text: JSON.stringify itself overflows on it. */
class DeepJson {
  constructor(readonly text: string) {}
}
const deep = fc
  .tuple(fc.integer({ min: 20, max: 20_000 }), fc.boolean())
  .map(([depth, arrays]) =>
    arrays
      ? new DeepJson('['.repeat(depth) + '"bottom"' + ']'.repeat(depth))
      : new DeepJson('{"a":'.repeat(depth) + '"bottom"' + '}'.repeat(depth)),
  );
const toJson = (value: unknown): string =>
  value instanceof DeepJson ? value.text : (JSON.stringify(value) ?? 'null');

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hostileString },
  { weight: 2, arbitrary: hostileNumber },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: deep },
);

interface Shape {
  [field: string]: fc.Arbitrary<unknown>;
}

/** An object with the route's own fields, each valid, hostile or absent, plus stray keys. */
function shaped(fields: Shape): fc.Arbitrary<string> {
  const entries = Object.entries(fields).map(([key, valid]) =>
    fc.option(
      fc.oneof(valid, hostileValue).map((value) => [key, value] as const),
      { nil: undefined },
    ),
  );
  return fc
    .tuple(
      fc.tuple(...entries),
      fc.array(fc.tuple(fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.string()), hostileValue), {
        maxLength: 2,
      }),
    )
    .map(([own, extra]) => {
      const parts = [...own.filter((e) => e !== undefined), ...extra].map(
        ([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`,
      );
      return `{${parts.join(',')}}`;
    });
}

/** Raw text bodies: random JSON, broken JSON, prototype-pollution payloads. */
const rawBodies = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  deep.map((d) => d.text),
  fc.string({ maxLength: 60 }),
  fc.constantFrom(
    '',
    '{',
    '{"a":}',
    'null',
    '[]',
    '"string"',
    '1e308',
    '-0',
    'NaN',
    '{"__proto__":{"polluted":"yes"}}',
    '{"constructor":{"prototype":{"polluted":"yes"}}}',
    '{"a":{"__proto__":{"polluted":"yes"}}}',
    '{"task_id":"\\ud800"}',
    '{"task_id":"a\\u0000b"}',
    '\u0000',
    '{"a":1,"a":2}',
  ),
  fc
    .constantFrom(...PROTO_KEYS)
    .map((key) => `{"${key}":{"polluted":"yes","prototype":{"polluted":"yes"}}}`),
);

const taskIdish = (known: () => string[]): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.constantFrom('does-not-exist', 'A_b-9'),
    fc.constant(null).map(() => known()[0] ?? 'x'),
    hostileValue,
  );

describe('hostile input never gets a 5xx, a bare body or a crash', () => {
  let s: TestServer;
  let cases = 0;
  const snapshot: Task[] = [];
  let configId = '';
  let webui: FakeSdWebui;
  let fileTask = '';

  before(async () => {
    webui = await FakeSdWebui.start();
    // The built-in modules and their routes, generate against a fake WebUI.
    s = await startTestServer({
      config: { bodyLimit: 256 * 1024, sdWebuiUrl: webui.url },
      server: { hubLimits: { maxMessagesPerSecond: 1_000_000 }, modules: builtInModules },
    });
    // A running task (alpha, held at a gate), one waiting behind it, and a finished one with a file.
    const running = await s.client.createTask('alpha', { gate: 'hold', label: 'running' });
    await s.gates.entered('hold');
    const pending = await s.client.createTask('alpha', { label: 'pending' });
    const done = await s.client.createTask('beta', {
      writeFile: 'out.txt',
      logs: 3,
      label: 'done',
    });
    await waitForStatus(s.client, done.id, ['completed']);
    fileTask = done.id;
    for (const t of [running, pending, done]) snapshot.push(await s.client.getTask(t.id));
    const configs = (await request(`${s.url}/api/configs`)).json as {
      data: { configs: { id: string }[] };
    };
    configId = configs.data.configs[0]!.id;
  });

  after(async () => {
    console.log(`hostile input: ${cases} HTTP and WebSocket cases`);
    s.gates.open('hold');
    await s.dispose();
    await webui.close();
  });

  const known = (): string[] => snapshot.map((t) => t.id);
  const routes: {
    path: string | (() => string) | fc.Arbitrary<string>;
    label?: string;
    method?: string;
    body: () => fc.Arbitrary<string>;
  }[] = [
    {
      path: '/api/tasks',
      body: () =>
        shaped({
          pagination: fc.record(
            { page: hostileNumber, page_size: hostileNumber },
            { requiredKeys: [] },
          ),
          status: fc.constantFrom('', 'pending', 'running', 'paused'),
          type: fc.constantFrom('', 'alpha', 'ALPHA', 'a b'),
        }),
    },
    { path: '/api/status', body: () => shaped({ task_id: taskIdish(known) }) },
    { path: '/api/task/get', body: () => shaped({ task_id: taskIdish(known) }) },
    {
      path: '/api/task/logs',
      body: () =>
        shaped({ task_id: taskIdish(known), after_seq: hostileNumber, limit: hostileNumber }),
    },
    // Random ids only: these change state, and the snapshot tasks must stay as they are.
    { path: '/api/task/start', body: () => shaped({ task_id: hostileValue }) },
    { path: '/api/task/stop', body: () => shaped({ task_id: hostileValue }) },
    { path: '/api/cancel', body: () => shaped({ task_id: hostileValue }) },
    {
      path: '/api/delete',
      body: () => shaped({ task_id: hostileValue, delete_files: fc.boolean() }),
    },
    {
      path: '/api/task/cleanup',
      body: () =>
        shaped({
          cleanup_type: fc.constantFrom('failed', 'cancelled', 'running', 'ALL'),
          delete_files: fc.boolean(),
        }),
    },
    {
      path: '/api/task/create',
      body: () =>
        shaped({
          type: fc.constantFrom('alpha', 'train', 'generate', 'Alpha', ''),
          config: fc.oneof(
            fc.record(
              {
                label: hostileString,
                ms: hostileNumber,
                cookie: hostileString,
                progress: fc.array(hostileNumber, { maxLength: 3 }),
              },
              { requiredKeys: [] },
            ),
            hostileValue,
          ),
          priority: hostileNumber,
          max_attempts: hostileNumber,
        }),
    },
    {
      path: '/api/configs',
      body: () =>
        shaped({
          name: hostileString,
          category: hostileString,
          prompt: hostileString,
          steps: hostileNumber,
          width: hostileNumber,
          cfg_scale: hostileNumber,
          seed: hostileNumber,
          loras: fc.array(fc.record({ name: hostileString, weight: hostileNumber }), {
            maxLength: 3,
          }),
        }),
    },
    {
      path: fc
        .oneof(
          fc.constant('no-such-config'),
          hostileString.filter((x) => x.length < 200),
        )
        .map((id) => `/api/configs/${encode(id)}`),
      label: '/api/configs/:id',
      method: 'PUT',
      body: () => shaped({ name: hostileString, prompt: hostileString, steps: hostileNumber }),
    },
    {
      path: () => `/api/configs/${configId}/duplicate`,
      label: '/api/configs/:id/duplicate',
      body: () => shaped({ name: hostileString }),
    },
    {
      path: '/api/generate-with-config',
      body: () =>
        shaped({
          config_id: fc.oneof(
            fc.constant(null).map(() => configId),
            hostileValue,
          ),
          override: fc.oneof(
            fc.record(
              { steps: hostileNumber, prompt: hostileString, seed: hostileNumber },
              { requiredKeys: [] },
            ),
            hostileValue,
          ),
          priority: hostileNumber,
        }),
    },
  ];

  const checkResponse = (response: Awaited<ReturnType<typeof request>>, what: string): void => {
    assertEnvelope(response, what);
    const code = (response.json as { status: { code: number } }).status.code;
    assert.ok(
      response.status < 500 || code === 50100,
      `${what}: HTTP ${response.status} ${response.text.slice(0, 300)}`,
    );
  };

  for (const route of routes) {
    const label = route.label ?? (route.path as string);
    test(`${route.method ?? 'POST'} ${label}: random, wrong-typed, huge, deep and unicode bodies`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof({ weight: 3, arbitrary: route.body() }, { weight: 1, arbitrary: rawBodies }),
          route.path instanceof fc.Arbitrary ? route.path : fc.constant(''),
          async (body, generatedPath) => {
            cases++;
            const path =
              typeof route.path === 'string'
                ? route.path
                : route.path instanceof fc.Arbitrary
                  ? generatedPath
                  : route.path();
            const response = await request(s.url + path, {
              method: route.method ?? 'POST',
              body,
              headers: jsonHeaders(),
            });
            checkResponse(response, `${route.method ?? 'POST'} ${path} ${body.slice(0, 200)}`);
            assert.equal(
              ({} as Record<string, unknown>).polluted,
              undefined,
              'Object.prototype polluted',
            );
          },
        ),
        { numRuns: FUZZ_RUNS },
      );
    });
  }

  test('GET /api/configs with hostile query strings', async () => {
    const key = fc.oneof(
      fc.constantFrom('name', 'category', 'page', 'page_size', '__proto__', 'constructor'),
      fc.string({ maxLength: 8 }),
    );
    const value = fc.oneof(
      hostileString.filter((v) => v.length < 4_000),
      hostileNumber.map(String),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(key, value, fc.boolean()), { maxLength: 4 }),
        async (pairs) => {
          cases++;
          // Encoded, and raw (the URL parser then sees the bytes as they are).
          const query = pairs
            .map(([k, v, raw]) => (raw ? `${k}=${v}` : `${encode(k)}=${encode(v)}`))
            .join('&');
          let response;
          try {
            response = await request(`${s.url}/api/configs?${query}`);
          } catch {
            return; // the client itself refused to send it (an invalid URL)
          }
          checkResponse(response, `GET /api/configs?${query.slice(0, 200)}`);
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
  });

  test('GET /api/files/:task_id/* with hostile ids and paths', async () => {
    const segment = fc.oneof(
      fc.constantFrom(
        '..',
        '.',
        '%2e%2e',
        '%2E%2E%2F',
        '..%2f',
        '..%5c',
        '%00',
        'out.txt',
        '%2fetc%2fpasswd',
        '\\..\\',
        '~',
        '%c0%ae%c0%ae',
      ),
      hostileString.filter((v) => v.length < 300).map(encode),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.constant(fileTask),
          fc.constant('nope'),
          hostileString.filter((v) => v.length < 200).map(encode),
        ),
        fc.array(segment, { minLength: 1, maxLength: 6 }),
        async (id, segments) => {
          cases++;
          const path = `/api/files/${id}/${segments.join('/')}`;
          // fetch resolves `..` segments before sending: such a URL may no longer target the file
          // route at all (`/api/files/x/../../..` is sent as `GET /`, the console). Raw,
          // unresolved traversal is sent over a socket in paths.test.ts.
          if (!new URL(s.url + path).pathname.startsWith('/api/files/')) return;
          const response = await request(s.url + path);
          if (response.status === 200) {
            // Only the task's own file can ever be served.
            assert.equal(response.text, 'output', path);
            return;
          }
          checkResponse(response, `GET ${path}`);
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
  });

  test('every WebSocket message type with hostile fields, raw frames and binary frames', async () => {
    const ws = await openSocket(wsUrl(s.url));
    const messages = collect(ws);
    const type = fc.oneof(
      fc.constantFrom(
        'subscribe_task',
        'unsubscribe_task',
        'subscribe_all',
        'unsubscribe_all',
        'ping',
        'pong',
        'SUBSCRIBE_ALL',
        '__proto__',
      ),
      hostileValue,
    );
    const message = fc.oneof(
      { weight: 3, arbitrary: shaped({ type, task_id: taskIdish(known) }) },
      { weight: 1, arbitrary: rawBodies },
    );
    // Frames stay under the 64 KiB message limit here; the limit itself is tested in limits.test.ts.
    await fc.assert(
      fc.asyncProperty(
        message.filter((m) => Buffer.byteLength(m) < 60_000),
        fc.boolean(),
        async (text, binary) => {
          cases++;
          ws.send(binary ? Buffer.from(text) : text);
          await roundTrip(ws, messages);
          assert.equal(ws.readyState, ws.OPEN);
          assert.equal(
            ({} as Record<string, unknown>).polluted,
            undefined,
            'Object.prototype polluted',
          );
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
    const serverTypes = new Set([
      'task_status',
      'task_log',
      'task_created',
      'task_deleted',
      'pong',
      'error',
    ]);
    for (const m of messages) {
      assert.ok(
        m !== null && typeof m === 'object' && serverTypes.has((m as { type: string }).type),
        JSON.stringify(m).slice(0, 200),
      );
      if ((m as { type: string }).type === 'error')
        assert.equal(typeof (m as { message: unknown }).message, 'string');
    }
    ws.close();
  });

  test('a WebSocket message whose type nests 20,000 deep gets an error, not an unhandled rejection', async () => {
    const rejections: unknown[] = [];
    const record = (reason: unknown): number => rejections.push(reason);
    process.on('unhandledRejection', record);
    try {
      const ws = await openSocket(wsUrl(s.url));
      const messages = collect(ws);
      ws.send('{"type":' + '['.repeat(20_000) + ']'.repeat(20_000) + '}');
      ws.send(JSON.stringify({ type: 'z'.repeat(50_000) }));
      await roundTrip(ws, messages);
      const errors = messages.filter((m) => (m as { type: string }).type === 'error') as {
        message: string;
      }[];
      assert.equal(errors.length, 2);
      assert.ok(
        errors.every((e) => e.message.length < 300),
        'the offending type is not echoed whole',
      );
      assert.equal(ws.readyState, ws.OPEN);
      ws.close();
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(rejections, []);
    } finally {
      process.off('unhandledRejection', record);
    }
  });

  test('afterwards: healthy, unpolluted, the held tasks unchanged, and a new task runs to completion', async () => {
    assert.equal((await request(`${s.url}/health`)).status, 200);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(Object.keys(Object.prototype), []);
    for (const before of snapshot) assert.deepEqual(await s.client.getTask(before.id), before);
    const logs = (await s.client.getLogs(fileTask)).logs.length;
    assert.ok(logs >= 3);
    const fresh = await s.client.createTask('gamma', { label: 'after the fuzz' });
    await waitForStatus(s.client, fresh.id, ['completed']);
  });
});
