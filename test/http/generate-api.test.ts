import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { ServerMessage, TaskFeed } from '../../src/client/index.js';
import { ErrorCode } from '../../src/domain/errors.js';
import type { Task } from '../../src/domain/task.js';
import { EXAMPLE_CONFIGS, type GenerateResult } from '../../src/executors/generate/index.js';
import { createGenerateModule } from '../../src/executors/generate/module.js';
import { readPng } from '../fakes/png.js';
import { FakeSdWebui } from '../fakes/sd-webui.js';
import { eventually, startTestServer, tempDir, type TestServer } from '../helpers/server.js';

const TIMEOUT = { timeout: 60_000 };

type Fields = { fields?: { path: string; message: string }[] };

interface Reply<T> {
  http: number;
  code: number;
  message: string;
  paths: string[];
  data: T;
}

interface ConfigView {
  id: string;
  name: string;
  category: string;
  prompt: string;
  steps: number;
  cfg_scale: number;
  loras: { name: string; weight: number; trigger_words: string[] }[];
  created_at: string;
  updated_at: string;
  [field: string]: unknown;
}

interface ConfigPage {
  configs: ConfigView[];
  pagination: { page: number; page_size: number; total: number };
}

/** Real HTTP, any method; the envelope is unpacked but errors are returned, not thrown. */
async function api<T = unknown>(
  s: TestServer,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<Reply<T>> {
  const response = await fetch(s.url + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const envelope = (await response.json()) as {
    status: { code: number; message: string; details?: Fields };
    data: T;
  };
  return {
    http: response.status,
    code: envelope.status.code,
    message: envelope.status.message,
    paths: (envelope.status.details?.fields ?? []).map((f) => f.path),
    data: envelope.data,
  };
}

function succeeded<T>(reply: Reply<T>): T {
  assert.equal(reply.http, 200, `expected success, got ${reply.http}: ${reply.message}`);
  assert.equal(reply.code, 0);
  return reply.data;
}

/** The test executors plus the generate module (its configs API), with the default WebUI URL. */
const WITH_GENERATE = { server: { modules: [createGenerateModule()] } };

/** A server whose generate executor talks to `webuiUrl` and polls progress often. */
function startGenerateServer(webuiUrl: string, dataDir?: string): Promise<TestServer> {
  return startTestServer({
    dataDir,
    config: { sdWebuiUrl: webuiUrl },
    server: { modules: [createGenerateModule({ progressPollMs: 15, requestTimeoutMs: 5_000 })] },
  });
}

/**
 * Close a feed and wait until the socket is gone: a server closed while the client's close
 * handshake is still in flight can wait on that socket for a long time before it exits.
 */
async function closeFeed(feed: TaskFeed): Promise<void> {
  const closed = new Promise<void>((resolve) => {
    if (feed.isClosed) resolve();
    else feed.onClose(resolve);
  });
  feed.close();
  await closed;
}

const taskCount = async (s: TestServer): Promise<number> =>
  (await s.client.getTasks()).pagination.total;

describe('generation configs API', () => {
  test(
    'an empty store is seeded with the example configs, and a restart on the same data does not seed them again',
    TIMEOUT,
    async () => {
      const dataDir = tempDir();
      const fake = await FakeSdWebui.start();
      try {
        const first = await startGenerateServer(fake.url, dataDir);
        const seeded = succeeded(await api<ConfigPage>(first, 'GET', '/api/configs'));
        await first.dispose();
        assert.equal(seeded.pagination.total, EXAMPLE_CONFIGS.length);
        assert.deepEqual(
          seeded.configs.map((c) => c.name).sort(),
          EXAMPLE_CONFIGS.map((c) => c.name).sort(),
        );
        const lora = seeded.configs.find((c) => c.name === 'Style LoRA');
        assert.equal(lora?.loras.length, 2, 'the examples keep their fields');

        const second = await startGenerateServer(fake.url, dataDir);
        try {
          const again = succeeded(await api<ConfigPage>(second, 'GET', '/api/configs'));
          assert.equal(again.pagination.total, EXAMPLE_CONFIGS.length);
          assert.deepEqual(
            again.configs.map((c) => c.id).sort(),
            seeded.configs.map((c) => c.id).sort(),
          );
        } finally {
          await second.dispose();
        }
      } finally {
        await fake.close();
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  );

  test(
    'a config is created with defaults filled in, read, replaced whole, duplicated and deleted',
    TIMEOUT,
    async () => {
      const s = await startTestServer(WITH_GENERATE);
      try {
        const created = succeeded(
          await api<ConfigView>(s, 'POST', '/api/configs', {
            name: 'Fox',
            prompt: 'a fox',
            steps: 30,
            loras: [{ name: 'add_detail', weight: 0.5 }],
          }),
        );
        assert.match(created.id, /^[a-z0-9]+$/);
        assert.equal(created.name, 'Fox');
        assert.equal(created.category, '');
        assert.equal(created.steps, 30);
        assert.equal(created.cfg_scale, 7, 'a left-out field gets its default');
        assert.deepEqual(created.loras, [{ name: 'add_detail', weight: 0.5, trigger_words: [] }]);
        assert.ok(created.created_at && created.updated_at);
        assert.deepEqual(
          succeeded(await api<ConfigView>(s, 'GET', `/api/configs/${created.id}`)),
          created,
        );

        const replaced = succeeded(
          await api<ConfigView>(s, 'PUT', `/api/configs/${created.id}`, {
            name: 'Fox v2',
            category: 'animals',
            prompt: 'a red fox',
          }),
        );
        assert.equal(replaced.id, created.id);
        assert.equal(replaced.category, 'animals');
        assert.equal(replaced.steps, 20, 'a full replace: the old steps are not kept');
        assert.deepEqual(replaced.loras, []);
        assert.equal(replaced.created_at, created.created_at);

        const copy = succeeded(
          await api<ConfigView>(s, 'POST', `/api/configs/${created.id}/duplicate`),
        );
        assert.notEqual(copy.id, created.id);
        assert.equal(copy.name, 'Fox v2 (copy)');
        assert.equal(copy.category, 'animals');
        assert.equal(copy.prompt, 'a red fox');
        const named = succeeded(
          await api<ConfigView>(s, 'POST', `/api/configs/${created.id}/duplicate`, {
            name: 'Vixen',
          }),
        );
        assert.equal(named.name, 'Vixen');

        assert.deepEqual(succeeded(await api(s, 'DELETE', `/api/configs/${created.id}`)), {
          id: created.id,
        });
        for (const [method, path, body] of [
          ['GET', `/api/configs/${created.id}`, undefined],
          ['PUT', `/api/configs/${created.id}`, { name: 'x', prompt: 'x' }],
          ['DELETE', `/api/configs/${created.id}`, undefined],
          ['POST', `/api/configs/${created.id}/duplicate`, {}],
        ] as const) {
          const reply = await api(s, method, path, body);
          assert.equal(reply.http, 404, `${method} ${path}`);
          assert.equal(reply.code, ErrorCode.RESOURCE_NOT_FOUND, `${method} ${path}`);
        }
        const left = succeeded(await api<ConfigPage>(s, 'GET', '/api/configs?category=animals'));
        assert.deepEqual(left.configs.map((c) => c.name).sort(), ['Fox v2 (copy)', 'Vixen']);
      } finally {
        await s.dispose();
      }
    },
  );

  test(
    'an invalid config is a 400 that names every bad field, on create and on replace',
    TIMEOUT,
    async () => {
      const s = await startTestServer(WITH_GENERATE);
      try {
        const bad = { name: '', prompt: 5, steps: '20', width: 500, colour: 'red' };
        const created = await api(s, 'POST', '/api/configs', bad);
        assert.equal(created.http, 400);
        assert.equal(created.code, ErrorCode.VALIDATION);
        for (const field of ['/name', '/prompt', '/steps', '/width', '/colour']) {
          assert.ok(created.paths.includes(field), `${field} named in ${created.paths.join(', ')}`);
        }
        const missing = await api(s, 'POST', '/api/configs', { name: 'no prompt' });
        assert.equal(missing.http, 400);
        assert.deepEqual(missing.paths, ['/prompt']);

        const { configs } = succeeded(await api<ConfigPage>(s, 'GET', '/api/configs'));
        const target = configs[0]!;
        const replaced = await api(s, 'PUT', `/api/configs/${target.id}`, {
          name: 'x',
          prompt: 'x',
          loras: [{ name: 'bad:name' }],
        });
        assert.equal(replaced.http, 400);
        assert.deepEqual(replaced.paths, ['/loras/0/name']);
        const unchanged = succeeded(await api<ConfigView>(s, 'GET', `/api/configs/${target.id}`));
        assert.deepEqual(unchanged, target, 'a refused replace changes nothing');

        const badId = await api(s, 'GET', '/api/configs/not!an!id');
        assert.equal(badId.http, 400);
        assert.deepEqual(badId.paths, ['/id']);
        const badName = await api(s, 'POST', `/api/configs/${target.id}/duplicate`, { name: 7 });
        assert.equal(badName.http, 400);
        assert.deepEqual(badName.paths, ['/name']);
      } finally {
        await s.dispose();
      }
    },
  );

  test(
    'listing pages through configs by name and filters by category and name substring',
    TIMEOUT,
    async () => {
      const s = await startTestServer(WITH_GENERATE);
      try {
        for (const n of [5, 3, 1, 4, 2]) {
          succeeded(
            await api(s, 'POST', '/api/configs', {
              name: `Batch ${n}`,
              category: 'batch',
              prompt: 'x',
            }),
          );
        }
        const page2 = succeeded(
          await api<ConfigPage>(s, 'GET', '/api/configs?category=batch&page=2&page_size=2'),
        );
        assert.deepEqual(page2.pagination, { page: 2, page_size: 2, total: 5 });
        assert.deepEqual(
          page2.configs.map((c) => c.name),
          ['Batch 3', 'Batch 4'],
        );
        const last = succeeded(
          await api<ConfigPage>(s, 'GET', '/api/configs?category=batch&page=3&page_size=2'),
        );
        assert.deepEqual(
          last.configs.map((c) => c.name),
          ['Batch 5'],
        );

        const byName = succeeded(await api<ConfigPage>(s, 'GET', '/api/configs?name=LANDSCAPE'));
        assert.deepEqual(
          byName.configs.map((c) => c.name),
          ['Landscape (hires fix)'],
        );
        const everything = succeeded(
          await api<ConfigPage>(s, 'GET', '/api/configs?name=&category=&page_size=100'),
        );
        assert.equal(everything.pagination.total, 5 + EXAMPLE_CONFIGS.length, "'' means any");
        assert.equal(everything.pagination.page, 1);

        for (const [query, field] of [
          ['page=abc', '/page'],
          ['page=0', '/page'],
          ['page_size=101', '/page_size'],
          ['page_size=1.5', '/page_size'],
          ['sort=name', '/sort'],
        ] as const) {
          const reply = await api(s, 'GET', `/api/configs?${query}`);
          assert.equal(reply.http, 400, query);
          assert.equal(reply.code, ErrorCode.VALIDATION, query);
          assert.deepEqual(reply.paths, [field], query);
        }
      } finally {
        await s.dispose();
      }
    },
  );

  test('the configs and generate endpoints are described in /openapi.json', TIMEOUT, async () => {
    const s = await startTestServer(WITH_GENERATE);
    try {
      const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as {
        paths: Record<string, Record<string, unknown>>;
      };
      assert.deepEqual(Object.keys(doc.paths['/api/configs'] ?? {}).sort(), ['get', 'post']);
      assert.deepEqual(Object.keys(doc.paths['/api/configs/{id}'] ?? {}).sort(), [
        'delete',
        'get',
        'put',
      ]);
      assert.ok(doc.paths['/api/configs/{id}/duplicate']?.post);
      assert.ok(doc.paths['/api/generate-with-config']?.post);
    } finally {
      await s.dispose();
    }
  });
});

describe('generate-with-config', () => {
  test(
    'the override reaches the WebUI with the LoRA tags; progress over /ws rises to 100 and the image is served as a PNG',
    TIMEOUT,
    async () => {
      const fake = await FakeSdWebui.start({ stepDelayMs: 40 });
      const s = await startGenerateServer(fake.url);
      const feed = await s.client.connect();
      try {
        const messages: ServerMessage[] = [];
        feed.onMessage((m) => messages.push(m));
        const config = succeeded(
          await api<ConfigView>(s, 'POST', '/api/configs', {
            name: 'Fox',
            prompt: 'a grey wolf',
            steps: 12,
            loras: [
              { name: 'add_detail', weight: 0.6 },
              { name: 'style', trigger_words: ['neon'] },
            ],
          }),
        );

        const created = succeeded(
          await api<Task>(s, 'POST', '/api/generate-with-config', {
            config_id: config.id,
            override: { prompt: 'a red fox' },
            priority: 5,
          }),
        );
        feed.subscribeTask(created.id);
        assert.equal(created.type, 'generate');
        assert.equal(created.priority, 5);
        assert.equal(created.config.prompt, 'a red fox');
        assert.equal(created.config.steps, 12);
        assert.equal(created.config.config_id, config.id);
        assert.equal(created.config.config_name, 'Fox');

        const statuses = () =>
          messages.flatMap((m) =>
            m.type === 'task_status' && m.task_id === created.id ? [m] : [],
          );
        await eventually(
          () => statuses().some((m) => m.status === 'completed'),
          50_000,
          'the task to complete',
        );
        assert.equal(fake.txt2imgBodies.length, 1);
        assert.equal(
          fake.txt2imgBodies[0]!.prompt,
          'a red fox, <lora:add_detail:0.6>, <lora:style:1>, neon',
        );
        const progress = statuses().map((m) => m.progress);
        for (let i = 1; i < progress.length; i++) {
          assert.ok(progress[i]! >= progress[i - 1]!, `monotonic: ${progress.join(', ')}`);
        }
        assert.equal(progress.at(-1), 100);
        assert.ok(progress[0]! < 100, 'the subscription snapshot was taken while it ran');

        const task = await s.client.getTask(created.id);
        const result = task.result as unknown as GenerateResult;
        assert.equal(result.count, 1);
        const image = await fetch(`${s.url}/api/files/${created.id}/${result.images[0]!.file}`);
        assert.equal(image.status, 200);
        assert.equal(image.headers.get('content-type'), 'image/png');
        const png = readPng(new Uint8Array(await image.arrayBuffer()));
        assert.ok(png.width > 0 && png.height > 0);
        const sidecar = await fetch(
          `${s.url}/api/files/${created.id}/${result.images[0]!.sidecar}`,
        );
        const meta = (await sidecar.json()) as {
          config_id: string;
          parameters: { prompt: string };
        };
        assert.equal(meta.config_id, config.id);
        assert.match(meta.parameters.prompt, /^a red fox, <lora:add_detail:0\.6>/);
      } finally {
        await closeFeed(feed);
        await s.dispose();
        await fake.close();
      }
    },
  );

  test(
    'an invalid override is a 400 naming /override/<field>, and nothing is queued',
    TIMEOUT,
    async () => {
      const fake = await FakeSdWebui.start();
      const s = await startGenerateServer(fake.url);
      try {
        const { configs } = succeeded(await api<ConfigPage>(s, 'GET', '/api/configs'));
        const configId = configs[0]!.id;
        const bad = await api(s, 'POST', '/api/generate-with-config', {
          config_id: configId,
          override: { steps: 0, width: '512', colour: 'red' },
        });
        assert.equal(bad.http, 400);
        assert.equal(bad.code, ErrorCode.VALIDATION);
        assert.deepEqual(bad.paths.sort(), [
          '/override/colour',
          '/override/steps',
          '/override/width',
        ]);

        const notAnObject = await api(s, 'POST', '/api/generate-with-config', {
          config_id: configId,
          override: 'steps=0',
        });
        assert.equal(notAnObject.http, 400);
        assert.deepEqual(notAnObject.paths, ['/override']);

        assert.equal(await taskCount(s), 0);
        assert.equal(fake.txt2imgBodies.length, 0);
      } finally {
        await s.dispose();
        await fake.close();
      }
    },
  );

  test('an unknown config is a 404 RESOURCE_NOT_FOUND', TIMEOUT, async () => {
    const fake = await FakeSdWebui.start();
    const s = await startGenerateServer(fake.url);
    try {
      const reply = await api(s, 'POST', '/api/generate-with-config', {
        config_id: '01hzzzzzzzzzzzzzzzzzzzzzzz',
      });
      assert.equal(reply.http, 404);
      assert.equal(reply.code, ErrorCode.RESOURCE_NOT_FOUND);
      assert.equal(await taskCount(s), 0);
    } finally {
      await s.dispose();
      await fake.close();
    }
  });

  test(
    'with the built-in executors and SD_WEBUI_URL unreachable, it is a 503 naming the URL and no task is queued',
    TIMEOUT,
    async () => {
      const down = await FakeSdWebui.unusedUrl();
      // `executors: undefined` makes the server register builtInExecutors(config).
      const s = await startTestServer({
        config: { sdWebuiUrl: down },
        server: { executors: undefined },
      });
      try {
        const { configs } = succeeded(await api<ConfigPage>(s, 'GET', '/api/configs'));
        const reply = await api(s, 'POST', '/api/generate-with-config', {
          config_id: configs[0]!.id,
        });
        assert.equal(reply.http, 503);
        assert.equal(reply.code, ErrorCode.DEPENDENCY_UNAVAILABLE);
        assert.ok(reply.message.includes(down), `the message names ${down}: ${reply.message}`);
        assert.equal(await taskCount(s), 0);
      } finally {
        await s.dispose();
      }
    },
  );

  test(
    'stopping a task mid-generation cancels it and interrupts the WebUI exactly once',
    TIMEOUT,
    async () => {
      const fake = await FakeSdWebui.start({ stepDelayMs: 20 });
      const s = await startGenerateServer(fake.url);
      try {
        const config = succeeded(
          await api<ConfigView>(s, 'POST', '/api/configs', {
            name: 'Long',
            prompt: 'a long one',
            steps: 150,
            loop_count: 3,
          }),
        );
        const task = succeeded(
          await api<Task>(s, 'POST', '/api/generate-with-config', { config_id: config.id }),
        );
        await fake.waitForCall(1, 2);
        const stopped = succeeded(
          await api<Task>(s, 'POST', '/api/task/stop', { task_id: task.id }),
        );
        assert.equal(stopped.status, 'cancelled');
        assert.equal(fake.interrupts, 1);
        assert.equal(fake.effectiveInterrupts, 1);
        assert.equal(fake.txt2imgBodies.length, 1, 'no later loop was started');
      } finally {
        await s.dispose();
        await fake.close();
      }
    },
  );
});
