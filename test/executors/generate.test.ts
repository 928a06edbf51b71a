import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { ErrorCode, TailorError } from '../../src/domain/errors.js';
import type { Task } from '../../src/domain/task.js';
import type { GenerateResult } from '../../src/executors/generate/index.js';
import { readPng } from '../fakes/png.js';
import { FakeSdWebui, OUT_OF_MEMORY_BODY } from '../fakes/sd-webui.js';
import { startGenerateHarness, type GenerateHarness } from './generate-harness.js';

const TIMEOUT = { timeout: 30_000 };

function resultOf(task: Task): GenerateResult {
  assert.ok(task.result && typeof task.result === 'object', 'the task has a result');
  return task.result as unknown as GenerateResult;
}

describe('generate executor against an SD WebUI', () => {
  let fake: FakeSdWebui;
  let harness: GenerateHarness;

  // A fresh WebUI and scheduler per test: recorded requests and scripts never leak between tests.
  const fresh = async (
    options: { stepDelayMs?: number; returnGrid?: boolean } = {},
  ): Promise<void> => {
    fake = await FakeSdWebui.start({ stepDelayMs: 5, ...options });
    harness = await startGenerateHarness(fake.url);
  };
  afterEach(async () => {
    await harness.close();
    await fake.close();
  });

  test(
    'progress rises monotonically across every loop and reaches 100 when done',
    TIMEOUT,
    async () => {
      await fresh({ stepDelayMs: 8 });
      const task = await harness.tasks.create({
        type: 'generate',
        config: {
          prompt: '1girl',
          steps: 6,
          batch_count: 2,
          loop_count: 3,
          // The hires pass restarts the WebUI's step counter: its own progress drops mid-job.
          enable_hr: true,
          hr_second_pass_steps: 4,
        },
      });
      const done = await harness.waitForTerminal(task.id);
      assert.equal(done.status, 'completed', done.error_message ?? '');
      assert.equal(done.progress, 100);

      const seen = harness.statuses.filter((t) => t.id === task.id).map((t) => t.progress);
      for (let i = 1; i < seen.length; i++) {
        assert.ok(seen[i]! >= seen[i - 1]!, `progress went from ${seen[i - 1]} back to ${seen[i]}`);
      }
      assert.ok(seen.every((p) => p >= 0 && p <= 100));
      // Each loop contributed its own third: progress was reported inside every band.
      for (const [low, high] of [
        [0, 33],
        [33, 66],
        [66, 100],
      ] as const) {
        assert.ok(
          seen.some((p) => p > low && p < high),
          `no progress reported between ${low} and ${high}: ${seen.join(',')}`,
        );
      }
      const messages = harness.statuses.filter((t) => t.id === task.id).map((t) => t.message);
      assert.ok(
        messages.some((m) => /loop 3\/3 · batch \d\/2 · step \d+\/\d+/.test(m)),
        messages.join('\n'),
      );
      const logs = await harness.logs(task.id);
      assert.ok(
        !logs.some((l) => l.message.includes('above 100')),
        'the executor never overshot 100',
      );
      assert.equal(resultOf(done).loops_completed, 3);
      assert.equal(resultOf(done).count, 6);
    },
  );

  test(
    'the WebUI receives the prompt with each LoRA tag and its trigger words',
    TIMEOUT,
    async () => {
      await fresh();
      const task = await harness.tasks.create({
        type: 'generate',
        config: {
          prompt: ' 1girl,  solo , ',
          negative_prompt: 'lowres,, bad hands',
          steps: 3,
          width: 640,
          height: 768,
          sampler: 'DPM++ 2M',
          scheduler: 'Karras',
          batch_size: 2,
          batch_count: 3,
          model: 'anything-v5.safetensors [7f96a1a9ca]',
          vae: 'kl-f8-anime2.ckpt',
          clip_skip: 2,
          loras: [
            { name: 'add_detail', weight: 0.6, trigger_words: ['detailed'] },
            { name: 'cyberpunk_style', trigger_words: ['cyberpunk, neon', 'solo'] },
          ],
        },
      });
      const done = await harness.waitForTerminal(task.id);
      assert.equal(done.status, 'completed', done.error_message ?? '');

      assert.equal(fake.txt2imgBodies.length, 1);
      const body = fake.txt2imgBodies[0]!;
      assert.equal(
        body.prompt,
        '1girl, solo, <lora:add_detail:0.6>, detailed, <lora:cyberpunk_style:1>, cyberpunk, neon',
      );
      assert.equal(body.negative_prompt, 'lowres, bad hands');
      assert.equal(body.sampler_name, 'DPM++ 2M');
      assert.equal(body.scheduler, 'Karras');
      assert.equal(body.width, 640);
      assert.equal(body.height, 768);
      assert.equal(body.batch_size, 2);
      assert.equal(body.n_iter, 3);
      assert.equal(body.seed, -1);
      assert.equal(body.enable_hr, false);
      assert.deepEqual(body.override_settings, {
        sd_model_checkpoint: 'anything-v5.safetensors [7f96a1a9ca]',
        sd_vae: 'kl-f8-anime2.ckpt',
        CLIP_stop_at_last_layers: 2,
      });
      assert.equal(resultOf(done).count, 6);
    },
  );

  test('an invalid config is refused at creation with every bad field named', TIMEOUT, async () => {
    await fresh();
    await assert.rejects(
      harness.tasks.create({
        type: 'generate',
        config: {
          prompt: 'x',
          steps: 0,
          width: 513,
          cfg_scale: '7',
          loop_count: 101,
          stepz: 20,
          loras: [{ name: 'bad:name', weight: 1 }],
        },
      }),
      (error: unknown) => {
        assert.ok(error instanceof TailorError);
        assert.equal(error.code, ErrorCode.VALIDATION);
        const paths = (error.details as { fields: { path: string }[] }).fields.map((f) => f.path);
        for (const path of [
          '/config/steps',
          '/config/width',
          '/config/cfg_scale',
          '/config/loop_count',
          '/config/stepz',
          '/config/loras/0/name',
        ]) {
          assert.ok(paths.includes(path), `${path} is named in ${paths.join(', ')}`);
        }
        return true;
      },
    );
    assert.equal((await harness.store.listTasks({ page: 1, pageSize: 10 })).total, 0);
    assert.equal(fake.txt2imgBodies.length, 0);
  });

  test(
    'stopping a generating task interrupts the WebUI once and the next queued task runs',
    TIMEOUT,
    async () => {
      await fresh({ stepDelayMs: 20 });
      const first = await harness.tasks.create({
        type: 'generate',
        config: { prompt: 'a', steps: 150 },
      });
      const second = await harness.tasks.create({
        type: 'generate',
        config: { prompt: 'b', steps: 3 },
      });
      await fake.waitForCall(1, 2);

      const stopped = await harness.tasks.stop(first.id);
      assert.equal(stopped.status, 'cancelled');
      assert.equal(fake.interrupts, 1);
      assert.equal(fake.effectiveInterrupts, 1);

      const next = await harness.waitForTerminal(second.id);
      assert.equal(next.status, 'completed', next.error_message ?? '');
      assert.equal(resultOf(next).count, 1, 'the next task was not interrupted');
      assert.equal(fake.interrupts, 1);
      assert.deepEqual(
        fake.txt2imgBodies.map((b) => b.prompt),
        ['a', 'b'],
      );
      const logs = await harness.logs(first.id);
      assert.ok(
        logs.some((l) => l.message.includes('interrupt')),
        'the stop is in the task log',
      );
    },
  );

  test(
    'cancelling a queued generate task never interrupts the generation that is running',
    TIMEOUT,
    async () => {
      await fresh({ stepDelayMs: 10 });
      const running = await harness.tasks.create({
        type: 'generate',
        config: { prompt: 'a', steps: 20 },
      });
      const queued = await harness.tasks.create({
        type: 'generate',
        config: { prompt: 'b', steps: 3 },
      });
      await fake.waitForCall(1);

      const cancelled = await harness.tasks.cancel(queued.id);
      assert.equal(cancelled.status, 'cancelled');

      const done = await harness.waitForTerminal(running.id);
      assert.equal(done.status, 'completed', done.error_message ?? '');
      assert.equal(done.progress, 100);
      assert.equal(resultOf(done).count, 1);
      assert.equal(fake.interrupts, 0);
      assert.deepEqual(
        fake.txt2imgBodies.map((b) => b.prompt),
        ['a'],
        'the cancelled task never reached the WebUI',
      );
      assert.equal((await harness.store.getTask(queued.id))?.status, 'cancelled');
    },
  );

  test(
    'creation is refused with 503 and nothing is queued while the WebUI is unreachable',
    TIMEOUT,
    async () => {
      fake = await FakeSdWebui.start();
      const url = await FakeSdWebui.unusedUrl();
      harness = await startGenerateHarness(url);
      await assert.rejects(
        harness.tasks.create({ type: 'generate', config: { prompt: 'a' } }),
        (error: unknown) => {
          assert.ok(error instanceof TailorError);
          assert.equal(error.code, ErrorCode.DEPENDENCY_UNAVAILABLE);
          assert.equal(error.httpStatus, 503);
          assert.match(error.message, /^SD WebUI unreachable at http:\/\/127\.0\.0\.1:\d+/);
          assert.deepEqual((error.details as { url: string }).url, url);
          return true;
        },
      );
      assert.equal((await harness.store.listTasks({ page: 1, pageSize: 10 })).total, 0);
    },
  );

  test(
    'a WebUI error on loop 2 fails the task with its message; loop 1 images stay on disk',
    TIMEOUT,
    async () => {
      await fresh();
      fake.script(2, { fail: { status: 500, body: OUT_OF_MEMORY_BODY, afterSteps: 2 } });
      const task = await harness.tasks.create({
        type: 'generate',
        config: { prompt: 'a', steps: 4, batch_size: 2, loop_count: 3 },
      });
      const done = await harness.waitForTerminal(task.id);
      assert.equal(done.status, 'failed');
      assert.match(done.error_message ?? '', /loop 2 of 3 failed/);
      assert.match(done.error_message ?? '', /HTTP 500/);
      assert.match(done.error_message ?? '', /OutOfMemoryError: CUDA out of memory/);
      assert.match(done.error_message ?? '', /2 image\(s\) from earlier loops were kept/);
      const partial = done.result as { images: { file: string }[]; count: number } | null;
      assert.deepEqual(
        partial?.images.map((image) => image.file),
        ['loop01_000.png', 'loop01_001.png'],
        'the failed task still lists the images it kept',
      );

      const dir = harness.tasks.outputDirOf(task.id);
      assert.deepEqual((await readdir(dir)).sort(), [
        'loop01_000.json',
        'loop01_000.png',
        'loop01_001.json',
        'loop01_001.png',
      ]);
      const logs = await harness.logs(task.id);
      assert.ok(
        logs.some(
          (l) =>
            l.level === 'warn' &&
            l.message.includes('kept 2 image(s)') &&
            l.message.includes('loop01_001.png'),
        ),
        'the kept images are listed in the log',
      );
      assert.equal(fake.txt2imgBodies.length, 2, 'no loop after the failed one');
    },
  );

  test(
    'a WebUI that dies during loop 2 fails the task naming the lost connection',
    TIMEOUT,
    async () => {
      await fresh();
      fake.script(2, { dieAfterSteps: 2 });
      const task = await harness.tasks.create({
        type: 'generate',
        config: { prompt: 'a', steps: 4, loop_count: 3 },
      });
      const done = await harness.waitForTerminal(task.id);
      assert.equal(done.status, 'failed');
      assert.match(done.error_message ?? '', /loop 2 of 3 failed/);
      assert.match(
        done.error_message ?? '',
        /SD WebUI at http:\/\/127\.0\.0\.1:\d+ dropped the connection during txt2img/,
      );
      const dir = harness.tasks.outputDirOf(task.id);
      assert.ok(existsSync(join(dir, 'loop01_000.png')));
      assert.ok(existsSync(join(dir, 'loop01_000.json')));
      assert.equal(fake.interrupts, 0);
    },
  );

  test(
    'saved images are valid PNGs whose sidecars hold their seed and parameters',
    TIMEOUT,
    async () => {
      await fresh();
      const task = await harness.tasks.create({
        type: 'generate',
        config: {
          prompt: 'a',
          steps: 2,
          seed: 1000,
          batch_size: 2,
          loop_count: 2,
          config_id: 'cfg1',
          config_name: 'Portrait',
        },
      });
      const done = await harness.waitForTerminal(task.id);
      assert.equal(done.status, 'completed', done.error_message ?? '');
      const result = resultOf(done);
      const dir = harness.tasks.outputDirOf(task.id);
      assert.equal(result.output_dir, dir);
      assert.equal(result.count, 4);
      assert.deepEqual(
        result.images.map((i) => [i.file, i.sidecar, i.seed, i.loop]),
        [
          ['loop01_000.png', 'loop01_000.json', 1000, 1],
          ['loop01_001.png', 'loop01_001.json', 1001, 1],
          ['loop02_000.png', 'loop02_000.json', 1002, 2],
          ['loop02_001.png', 'loop02_001.json', 1003, 2],
        ],
      );
      // A fixed seed continues across loops instead of repeating loop 1's images.
      assert.deepEqual(
        fake.txt2imgBodies.map((b) => b.seed),
        [1000, 1002],
      );
      for (const image of result.images) {
        const png = readPng(await readFile(join(dir, image.file)));
        assert.match(png.text.parameters ?? '', new RegExp(`Seed: ${image.seed}`));
        const sidecar = JSON.parse(await readFile(join(dir, image.sidecar), 'utf8')) as Record<
          string,
          unknown
        >;
        assert.equal(sidecar.seed, image.seed);
        assert.equal(sidecar.file, image.file);
        assert.equal(sidecar.format, 'png');
        assert.equal(sidecar.config_id, 'cfg1');
        assert.equal(sidecar.config_name, 'Portrait');
        assert.match(String(sidecar.infotext), new RegExp(`Seed: ${image.seed}`));
        const parameters = sidecar.parameters as Record<string, unknown>;
        assert.equal(parameters.prompt, 'a');
        assert.equal(parameters.seed, image.loop === 1 ? 1000 : 1002);
      }
      assert.ok(!(await readdir(dir)).some((name) => name.endsWith('.part')));
    },
  );

  test(
    'the grid image of a WebUI that returns grids is not saved as a generated image',
    TIMEOUT,
    async () => {
      await fresh({ returnGrid: true });
      const task = await harness.tasks.create({
        type: 'generate',
        config: { prompt: 'a', steps: 2, seed: 7, batch_size: 3 },
      });
      const done = await harness.waitForTerminal(task.id);
      assert.equal(done.status, 'completed', done.error_message ?? '');
      const result = resultOf(done);
      assert.deepEqual(
        result.images.map((i) => i.seed),
        [7, 8, 9],
      );
      for (const image of result.images) {
        const png = readPng(await readFile(join(result.output_dir, image.file)));
        assert.equal(png.width, 8, 'an image, not the larger grid');
        const sidecar = JSON.parse(
          await readFile(join(result.output_dir, image.sidecar), 'utf8'),
        ) as {
          infotext: string;
        };
        assert.match(sidecar.infotext, new RegExp(`Seed: ${image.seed}`));
      }
    },
  );

  test(
    'a re-run writes beside the images of the earlier run instead of over them',
    TIMEOUT,
    async () => {
      await fresh();
      const task = await harness.tasks.create({
        type: 'generate',
        config: { prompt: 'a', steps: 2 },
      });
      await harness.waitForTerminal(task.id);
      await harness.tasks.rerun(task.id);
      const again = await harness.waitForStatus(task.id, ['completed', 'failed']);
      assert.equal(again.status, 'completed', again.error_message ?? '');
      assert.deepEqual(
        resultOf(again).images.map((i) => i.file),
        ['run2_loop01_000.png'],
      );
      const files = await readdir(harness.tasks.outputDirOf(task.id));
      assert.ok(files.includes('loop01_000.png'));
      assert.ok(files.includes('run2_loop01_000.png'));
    },
  );
});
