import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Task } from '../../src/domain/task.js';
import { createGenerateModule } from '../../src/executors/generate/module.js';
import {
  FakeSdWebui,
  LATENT_UPSCALE_MODES,
  LORAS,
  MODELS,
  SAMPLERS,
  UPSCALERS,
  VAES,
  previewPng,
} from '../fakes/sd-webui.js';
import { eventually, startTestServer, waitForStatus, type TestServer } from '../helpers/server.js';

const TIMEOUT = { timeout: 60_000 };

interface Reply<T> {
  http: number;
  code: number;
  message: string;
  fields: { path: string; message: string }[];
  data: T;
}

async function api<T = unknown>(
  s: TestServer,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<Reply<T>> {
  const response = await fetch(s.url + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const envelope = (await response.json()) as {
    status: { code: number; message: string; details?: { fields?: Reply<T>['fields'] } };
    data: T;
  };
  return {
    http: response.status,
    code: envelope.status.code,
    message: envelope.status.message,
    fields: envelope.status.details?.fields ?? [],
    data: envelope.data,
  };
}

describe('generate against what the WebUI offers', () => {
  let fake: FakeSdWebui;
  let s: TestServer;

  before(async () => {
    fake = await FakeSdWebui.start({ stepDelayMs: 5 });
    s = await startTestServer({
      config: { sdWebuiUrl: fake.url },
      server: { modules: [createGenerateModule({ progressPollMs: 15, requestTimeoutMs: 5_000 })] },
    });
  });
  after(async () => {
    await s.dispose();
    await fake.close();
  });

  const taskCount = async (): Promise<number> => (await s.client.getTasks()).pagination.total;

  test(
    'an unknown sampler, checkpoint, VAE, upscaler or LoRA is a 400 naming the field and the available names, and nothing is queued',
    TIMEOUT,
    async () => {
      const before = await taskCount();
      const cases: [Record<string, unknown>, string, readonly string[]][] = [
        [{ sampler: 'Euler z' }, '/config/sampler', SAMPLERS],
        [{ sampler: 'dpm++ 2m' }, '/config/sampler', SAMPLERS],
        [{ model: 'nope.safetensors' }, '/config/model', [MODELS[0]!]],
        [{ vae: 'missing.vae.pt' }, '/config/vae', VAES],
        [{ enable_hr: true, hr_upscaler: '4x-Nothing' }, '/config/hr_upscaler', UPSCALERS],
        [
          { loras: [{ name: 'add_detail' }, { name: 'not_a_lora' }] },
          '/config/loras/1/name',
          LORAS,
        ],
      ];
      for (const [fields, path, available] of cases) {
        const reply = await api(s, 'POST', '/api/task/create', {
          type: 'generate',
          config: { prompt: 'a fox', ...fields },
        });
        assert.equal(reply.http, 400, `${path}: ${reply.message}`);
        assert.deepEqual(
          reply.fields.map((f) => f.path),
          [path],
        );
        for (const name of available)
          assert.ok(reply.message.includes(name), `${path} lists ${name}`);
        assert.ok(reply.message.includes(fake.url), 'the message names the WebUI');
      }
      assert.equal(await taskCount(), before);
    },
  );

  test(
    'names the WebUI offers are accepted: aliases of a checkpoint, built-in VAEs, latent upscalers, samplers by name',
    TIMEOUT,
    async () => {
      const accepted = [
        { sampler: 'DPM++ 2M', model: 'anything-v5', vae: 'Automatic' },
        { model: MODELS[1]!, vae: 'None', enable_hr: true, hr_upscaler: LATENT_UPSCALE_MODES[2]! },
        { vae: VAES[0]!, loras: LORAS.map((name) => ({ name })) },
      ];
      for (const fields of accepted) {
        const reply = await api<Task>(s, 'POST', '/api/task/create', {
          type: 'generate',
          config: { prompt: 'a fox', steps: 2, ...fields },
        });
        assert.equal(reply.http, 200, reply.message);
        await waitForStatus(s.client, reply.data.id, ['completed']);
      }
    },
  );

  test('/api/generate/options lists what the WebUI offers', TIMEOUT, async () => {
    const reply = await api<Record<string, string[] | null>>(s, 'GET', '/api/generate/options');
    assert.equal(reply.http, 200, reply.message);
    assert.deepEqual(reply.data.samplers, SAMPLERS);
    assert.deepEqual(reply.data.vaes, VAES);
    assert.deepEqual(reply.data.upscalers, [...UPSCALERS, ...LATENT_UPSCALE_MODES]);
    assert.deepEqual(reply.data.loras, LORAS);
    for (const title of MODELS) assert.ok(reply.data.models?.includes(title));
  });

  test(
    'the live preview of a running generation is served as the PNG the WebUI sent, and is gone once it ends',
    TIMEOUT,
    async () => {
      fake.stepDelayMs = 40;
      try {
        const created = await s.client.createTask('generate', { prompt: 'a fox', steps: 60 });
        await waitForStatus(s.client, created.id, ['running']);
        const png = await eventually(async () => {
          const response = await fetch(`${s.url}/api/generate/${created.id}/preview`);
          if (response.status !== 200) return undefined;
          assert.equal(response.headers.get('content-type'), 'image/png');
          return Buffer.from(await response.arrayBuffer());
        });
        assert.deepEqual(png, previewPng());
        await s.client.stopTask(created.id);
        const gone = await api(s, 'GET', `/api/generate/${created.id}/preview`);
        assert.equal(gone.http, 404);
      } finally {
        fake.stepDelayMs = 5;
      }
    },
  );

  test(
    'a generic create naming a stored config uses its fields, with the given ones over them',
    TIMEOUT,
    async () => {
      const stored = await api<{ id: string }>(s, 'POST', '/api/configs', {
        name: 'Tall DPM',
        prompt: 'a castle',
        width: 512,
        height: 768,
        sampler: 'DPM++ 2M',
        steps: 3,
      });
      assert.equal(stored.http, 200, stored.message);
      const calls = fake.requests.filter((r) => r.path === '/sdapi/v1/txt2img').length;
      for (const [config, prompt] of [
        [{ config_id: stored.data.id }, 'a castle'],
        [{ config_id: stored.data.id, prompt: 'a tower' }, 'a tower'],
        [{ config_id: stored.data.id, override: { prompt: 'a moat' } }, 'a moat'],
      ] as const) {
        const reply = await api<Task>(s, 'POST', '/api/task/create', { type: 'generate', config });
        assert.equal(reply.http, 200, reply.message);
        assert.equal(reply.data.config.config_id, stored.data.id);
        assert.equal(reply.data.config.sampler, 'DPM++ 2M');
        await waitForStatus(s.client, reply.data.id, ['completed']);
        const sent = fake.requests.filter((r) => r.path === '/sdapi/v1/txt2img').at(-1)!
          .body as Record<string, unknown>;
        assert.equal(sent.width, 512);
        assert.equal(sent.height, 768);
        assert.equal(sent.sampler_name, 'DPM++ 2M');
        assert.equal(sent.prompt, prompt);
      }
      assert.equal(fake.requests.filter((r) => r.path === '/sdapi/v1/txt2img').length, calls + 3);
      const missing = await api(s, 'POST', '/api/task/create', {
        type: 'generate',
        config: { config_id: '0000000000000000000000missing' },
      });
      assert.equal(missing.http, 404);
      assert.equal(missing.code, 40402);
    },
  );
});
