import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { createHttpClient } from '../../src/executors/http-client.js';
import { GenerationProgress } from '../../src/executors/generate/progress.js';
import { buildTxt2ImgRequest } from '../../src/executors/generate/request.js';
import { validateGenerationParams } from '../../src/executors/generate/override.js';
import {
  WebuiClient,
  WebuiError,
  describeErrorBody,
  type WebuiProgress,
} from '../../src/executors/generate/webui-client.js';
import { FakeSdWebui, OUT_OF_MEMORY_BODY } from '../fakes/sd-webui.js';

const http = createHttpClient();
after(() => http.close());

const request = buildTxt2ImgRequest(validateGenerationParams({ prompt: 'a', steps: 3 }), 0);

async function rejectsWith(
  promise: Promise<unknown>,
  kind: WebuiError['kind'],
  pattern: RegExp,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof WebuiError, `expected a WebuiError, got ${String(error)}`);
    assert.equal(error.kind, kind);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('SD WebUI client', () => {
  let fake: FakeSdWebui;
  let client: WebuiClient;
  before(async () => {
    fake = await FakeSdWebui.start({ stepDelayMs: 2 });
    client = new WebuiClient({ url: `${fake.url}/`, http });
  });
  after(() => fake.close());

  test('txt2img returns the images and the parsed info', async () => {
    const response = await client.txt2img(
      { ...request, seed: 5, batch_size: 2 },
      { timeoutMs: 10_000 },
    );
    assert.equal(response.images.length, 2);
    assert.deepEqual(response.info.all_seeds, [5, 6]);
    assert.equal(response.info.infotexts?.length, 2);
  });

  test('an out-of-memory failure carries the HTTP status, the WebUI error text and a hint', async () => {
    fake.script(2, { fail: { status: 500, body: OUT_OF_MEMORY_BODY } });
    await rejectsWith(
      client.txt2img(request, { timeoutMs: 10_000 }),
      'http',
      /^SD WebUI txt2img failed with HTTP 500: OutOfMemoryError: CUDA out of memory\. Tried to allocate .* lower width\/height/,
    );
  });

  test('a rejected request shows the detail the WebUI gave', async () => {
    await rejectsWith(
      client.txt2img({ ...request, sampler_name: 'No Such Sampler' }, { timeoutMs: 10_000 }),
      'http',
      /HTTP 404: HTTPException: Sampler not found/,
    );
  });

  test('progress is read while a generation runs', async () => {
    fake.stepDelayMs = 20;
    const running = client.txt2img({ ...request, steps: 10 }, { timeoutMs: 10_000 });
    await fake.waitForCall(4, 2);
    const sample = await client.progress({ timeoutMs: 5_000 });
    assert.ok(sample.progress > 0 && sample.progress < 1);
    assert.equal(sample.state.job_count, 1);
    assert.ok(sample.state.sampling_step >= 2);
    assert.equal(sample.state.sampling_steps, 10);
    await client.interrupt({ timeoutMs: 5_000 });
    const interrupted = await running;
    assert.equal(interrupted.images.length, 1, 'an interrupted job still returns its images');
    fake.stepDelayMs = 2;
  });

  test('a WebUI that does not answer in time is reported as a timeout', async () => {
    fake.stepDelayMs = 1_000;
    await rejectsWith(
      client.txt2img({ ...request, steps: 100 }, { timeoutMs: 50 }),
      'timeout',
      /did not answer txt2img within 50 ms/,
    );
    await client.interrupt({ timeoutMs: 5_000 });
    fake.stepDelayMs = 2;
  });

  test("the caller's abort passes through unchanged", async () => {
    fake.stepDelayMs = 50;
    const controller = new AbortController();
    const reason = new Error('stopped by user');
    const pending = client.txt2img(
      { ...request, steps: 100 },
      { timeoutMs: 10_000, signal: controller.signal },
    );
    controller.abort(reason);
    await assert.rejects(pending, (error: unknown) => error === reason);
    await client.interrupt({ timeoutMs: 5_000 });
    fake.stepDelayMs = 2;
  });
});

describe('SD WebUI client transport failures', () => {
  let server: Server | undefined;
  afterEach(async () => {
    if (server) {
      server.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
    }
    server = undefined;
  });

  test('nothing listening is "SD WebUI unreachable at <url>"', async () => {
    const url = await FakeSdWebui.unusedUrl();
    const client = new WebuiClient({ url, http });
    await rejectsWith(
      client.probe({ timeoutMs: 5_000 }),
      'unreachable',
      new RegExp(`^SD WebUI unreachable at ${url}`),
    );
  });

  test('credentials in the URL become Basic auth and never appear in messages', async () => {
    let seen: IncomingHttpHeaders = {};
    server = createServer((req, res) => {
      seen = req.headers;
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ detail: 'Incorrect username or password' }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const client = new WebuiClient({ url: `http://user:s3cret-pass@127.0.0.1:${port}`, http });
    assert.equal(client.url, `http://127.0.0.1:${port}`);
    await assert.rejects(client.probe({ timeoutMs: 5_000 }), (error: unknown) => {
      assert.ok(error instanceof WebuiError);
      assert.match(error.message, /HTTP 401: Incorrect username or password/);
      assert.ok(!error.message.includes('s3cret'));
      return true;
    });
    assert.equal(seen.authorization, `Basic ${Buffer.from('user:s3cret-pass').toString('base64')}`);
  });

  test('a connection cut mid-request is reported as a dropped connection', async () => {
    server = createServer((req) => {
      req.socket.destroy();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const client = new WebuiClient({ url: `http://127.0.0.1:${port}`, http });
    await rejectsWith(
      client.txt2img(request, { timeoutMs: 5_000 }),
      'connection-lost',
      /dropped the connection during txt2img .*it may have crashed or restarted/,
    );
  });

  test('error bodies read well whatever shape they have', () => {
    assert.equal(describeErrorBody('{"detail":"Not Found"}'), ': Not Found');
    assert.equal(
      describeErrorBody(
        '{"detail":[{"loc":["body","steps"],"msg":"value is not a valid integer"}]}',
      ),
      ': body.steps: value is not a valid integer',
    );
    assert.equal(describeErrorBody('<html>Bad Gateway</html>'), ': <html>Bad Gateway</html>');
    assert.equal(describeErrorBody('', 'Bad Gateway'), ' Bad Gateway');
  });
});

describe('generation progress', () => {
  const sample = (progress: number, job_no = 0, job_count = 1): WebuiProgress => ({
    progress,
    eta_relative: 0,
    textinfo: null,
    current_image: null,
    state: {
      job: '',
      job_count,
      job_no,
      sampling_step: 1,
      sampling_steps: 2,
      interrupted: false,
      skipped: false,
    },
  });

  test('whatever the WebUI reports, progress over all loops never falls and never exceeds 100', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.array(fc.array(fc.double({ min: -1, max: 2, noNaN: true }), { maxLength: 20 }), {
          maxLength: 100,
        }),
        (loops, samplesPerLoop) => {
          const tracker = new GenerationProgress(loops);
          let last = 0;
          const check = (): void => {
            assert.ok(tracker.percent >= last, `${tracker.percent} < ${last}`);
            assert.ok(tracker.percent <= 100);
            last = tracker.percent;
          };
          for (let loop = 0; loop < loops; loop++) {
            tracker.startLoop(loop);
            check();
            for (const value of samplesPerLoop[loop] ?? []) {
              tracker.observe(sample(value));
              check();
              assert.ok(
                tracker.percent <= Math.floor(((loop + 1) / loops) * 100),
                'a loop stays in its band',
              );
            }
            tracker.finishLoop();
            check();
          }
          assert.equal(tracker.percent, 100);
        },
      ),
    );
  });

  test('the message names the loop, batch and step', () => {
    const tracker = new GenerationProgress(3);
    tracker.startLoop(1);
    assert.equal(tracker.describe(), 'loop 2/3');
    assert.equal(tracker.describe(sample(0.5, 1, 4)), 'loop 2/3 · batch 2/4 · step 1/2');
  });
});
