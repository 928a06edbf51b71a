import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { parse } from 'smol-toml';
import { tempDir } from '../../helpers/server.js';
import {
  FAKE_KOHYA_DIR,
  fakeRunOf,
  sha256File,
  startTrainHarness,
  trainResultOf,
  type TrainHarness,
} from './harness.js';

const TIMEOUT = { timeout: 60_000 };

/** A TOML file as plain JSON values (smol-toml builds objects without a prototype). */
function readToml(path: string): Record<string, unknown> {
  return JSON.parse(JSON.stringify(parse(readFileSync(path, 'utf8')))) as Record<string, unknown>;
}

describe('train executor running sd-scripts (a fake trainer)', () => {
  let h: TrainHarness;
  afterEach(async () => {
    await h.close();
  });

  test(
    'an sd15 training runs train_network.py with only the two TOML files as arguments, and the result hashes every saved file',
    TIMEOUT,
    async () => {
      h = await startTrainHarness();
      h.dataset('sets/alice', 3, 3, { steps_per_epoch: 5 });
      h.model('checkpoints', 'base.safetensors');
      const created = await h.post('/api/train/create', {
        dataset_dir: 'sets/alice',
        base_model: 'base.safetensors',
        output_name: 'alice',
        max_train_epochs: 4,
        save_every_n_epochs: 1,
        sample_prompts: ['alice, smiling', 'alice, standing'],
        sample_every_n_epochs: 2,
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const id = (created.body.data as { id: string }).id;
      const done = await h.waitFor(id, ['completed', 'failed', 'cancelled']);
      assert.equal(done.status, 'completed', done.error_message ?? '');
      assert.equal(done.progress, 100);

      const outputDir = h.server.tasks.outputDirOf(id);
      const run = fakeRunOf(outputDir);
      assert.deepEqual(run.argv, [
        join(FAKE_KOHYA_DIR, 'train_network.py'),
        '--dataset_config',
        join(outputDir, 'dataset.toml'),
        '--config_file',
        join(outputDir, 'config.toml'),
      ]);
      assert.equal(run.family, 'sd15');
      assert.equal(run.cwd.replace(/\/$/, ''), FAKE_KOHYA_DIR.replace(/\/$/, ''));

      const result = trainResultOf(done);
      assert.deepEqual(
        result.loras.map((l) => [l.file, l.epoch]),
        [
          ['alice-000001.safetensors', 1],
          ['alice-000002.safetensors', 2],
          ['alice-000003.safetensors', 3],
          ['alice.safetensors', null],
        ],
      );
      for (const lora of result.loras) {
        const path = join(outputDir, lora.file);
        assert.equal(lora.sha256, sha256File(path), `sha256 of ${lora.file}`);
        assert.equal(lora.size, readFileSync(path).length);
      }
      assert.equal(result.final?.file, 'alice.safetensors');
      assert.deepEqual(result.samples, [
        'sample/alice_e000002_00.png',
        'sample/alice_e000002_01.png',
        'sample/alice_e000004_00.png',
        'sample/alice_e000004_01.png',
      ]);
      assert.equal(result.steps, 20);
      assert.equal(result.loss_curve.at(-1)?.step, 20);
      // The fake's loss after step n is 0.2 / (1 + 0.05 n), printed with 5 significant digits.
      assert.ok(
        Math.abs((result.final_loss ?? 0) - 0.2 / 2) < 1e-4,
        `final loss ${result.final_loss}`,
      );
      assert.deepEqual(result.dataset, { images: 3, captions: 3, folders: 1 });
      assert.equal(result.webui_lora, null);
      assert.equal(
        readFileSync(join(outputDir, 'sample_prompts.txt'), 'utf8'),
        'alice, smiling\nalice, standing\n',
      );
    },
  );

  test(
    'config.toml and dataset.toml hold the request, with absolute paths, defaults and extra_args',
    TIMEOUT,
    async () => {
      h = await startTrainHarness();
      const a = h.dataset('sets/a', 2, 2, { steps_per_epoch: 2 });
      const b = h.dataset('sets/b', 1, 1);
      const base = h.model('checkpoints', 'base.ckpt');
      const created = await h.post('/api/train/create', {
        datasets: [
          { dir: 'sets/a', num_repeats: 3, class_tokens: 'alice girl' },
          { dir: b, num_repeats: 7 },
        ],
        base_model: base,
        output_name: 'two-sets',
        network_dim: 64,
        network_alpha: 32,
        max_train_steps: 6,
        learning_rate: 0.0002,
        unet_lr: 0.0003,
        text_encoder_lr: 0.00005,
        optimizer_type: 'Prodigy',
        lr_scheduler: 'constant',
        mixed_precision: 'bf16',
        seed: 42,
        shuffle_caption: true,
        keep_tokens: 1,
        train_batch_size: 2,
        extra_args: { gradient_checkpointing: true, clip_skip: 2, noise_offset: 0.05 },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const id = (created.body.data as { id: string }).id;
      const done = await h.waitFor(id, ['completed', 'failed', 'cancelled']);
      assert.equal(done.status, 'completed', done.error_message ?? '');
      const outputDir = h.server.tasks.outputDirOf(id);

      assert.deepEqual(readToml(join(outputDir, 'dataset.toml')), {
        general: { shuffle_caption: true, caption_extension: '.txt', keep_tokens: 1 },
        datasets: [
          {
            resolution: 512,
            batch_size: 2,
            enable_bucket: true,
            min_bucket_reso: 256,
            max_bucket_reso: 1024,
            subsets: [
              { image_dir: a, num_repeats: 3, class_tokens: 'alice girl' },
              { image_dir: b, num_repeats: 7 },
            ],
          },
        ],
      });
      assert.deepEqual(readToml(join(outputDir, 'config.toml')), {
        pretrained_model_name_or_path: base,
        output_dir: outputDir,
        output_name: 'two-sets',
        save_model_as: 'safetensors',
        network_module: 'networks.lora',
        network_dim: 64,
        network_alpha: 32,
        max_train_steps: 6,
        learning_rate: 0.0002,
        unet_lr: 0.0003,
        text_encoder_lr: 0.00005,
        optimizer_type: 'Prodigy',
        lr_scheduler: 'constant',
        mixed_precision: 'bf16',
        seed: 42,
        gradient_checkpointing: true,
        clip_skip: 2,
        noise_offset: 0.05,
      });
    },
  );

  test(
    'sdxl and flux run their own scripts, with a 1024 default resolution and flux its text encoders and autoencoder',
    TIMEOUT,
    async () => {
      h = await startTrainHarness();
      h.dataset('sets/x', 1, 1, { steps_per_epoch: 1 });
      h.model('checkpoints', 'sdxl.safetensors');
      h.model('checkpoints', 'flux1-dev.safetensors');
      const clipL = h.model('clip', 'clip_l.safetensors');
      const t5 = h.model('clip', 't5xxl_fp8.safetensors');
      const ae = h.model('vae', 'ae.safetensors');
      const families = [
        { model_family: 'sdxl', base_model: 'sdxl.safetensors' },
        {
          model_family: 'flux',
          base_model: 'flux1-dev.safetensors',
          clip_l: 'clip_l.safetensors',
          t5xxl: 't5xxl_fp8.safetensors',
          ae: 'ae.safetensors',
          extra_args: { fp8_base: true, timestep_sampling: 'shift', guidance_scale: 1 },
        },
      ];
      for (const family of families) {
        const created = await h.post('/api/train/create', {
          dataset_dir: 'sets/x',
          max_train_epochs: 1,
          ...family,
        });
        assert.equal(created.status, 200, JSON.stringify(created.body));
        const id = (created.body.data as { id: string }).id;
        const done = await h.waitFor(id, ['completed', 'failed', 'cancelled']);
        assert.equal(done.status, 'completed', done.error_message ?? '');
        const outputDir = h.server.tasks.outputDirOf(id);
        const run = fakeRunOf(outputDir);
        const script =
          family.model_family === 'sdxl' ? 'sdxl_train_network.py' : 'flux_train_network.py';
        assert.equal(basename(run.argv[0] ?? ''), script);
        assert.equal(run.family, family.model_family);
        const dataset = readToml(join(outputDir, 'dataset.toml')) as {
          datasets: { resolution: number }[];
        };
        assert.equal(dataset.datasets[0]?.resolution, 1024);
        const config = readToml(join(outputDir, 'config.toml'));
        if (family.model_family === 'flux') {
          assert.equal(config.network_module, 'networks.lora_flux');
          assert.equal(config.clip_l, clipL);
          assert.equal(config.t5xxl, t5);
          assert.equal(config.ae, ae);
          assert.equal(config.fp8_base, true);
          assert.equal(config.timestep_sampling, 'shift');
        } else {
          assert.equal(config.network_module, 'networks.lora');
          assert.equal(config.clip_l, undefined);
        }
        // Without an output_name the LoRA is named after its task.
        assert.equal(trainResultOf(done).final?.file, `lora-${id}.safetensors`);
      }
    },
  );

  test(
    'progress carries epoch, step, loss and ETA; the log keeps one line per finished bar, not one per redraw',
    TIMEOUT,
    async () => {
      h = await startTrainHarness({ timings: { progressLogIntervalMs: 60_000 } });
      h.dataset('sets/p', 1, 0, { steps_per_epoch: 100, step_delay: 0.004 });
      h.model('checkpoints', 'base.safetensors');
      const messages: string[] = [];
      h.server.events.subscribe((event) => {
        if (event.kind === 'status' && event.task.message) messages.push(event.task.message);
      });
      const created = await h.post('/api/train/create', {
        dataset_dir: 'sets/p',
        base_model: 'base.safetensors',
        max_train_epochs: 3,
      });
      const id = (created.body.data as { id: string }).id;
      const done = await h.waitFor(id, ['completed', 'failed', 'cancelled']);
      assert.equal(done.status, 'completed', done.error_message ?? '');

      const mid = messages.find((m) =>
        /^epoch 2\/3 · step \d+\/300 · loss 0\.\d+ · ETA 00:07$/.test(m),
      );
      assert.ok(
        mid,
        `a progress message like "epoch 2/3 · step n/300 · loss … · ETA …" among ${JSON.stringify(messages.slice(0, 8))}`,
      );
      const result = trainResultOf(done);
      assert.equal(result.loss_curve.at(-1)?.step, 300);
      for (let i = 1; i < result.loss_curve.length; i++) {
        assert.ok(result.loss_curve[i]!.step > result.loss_curve[i - 1]!.step, 'steps increase');
      }

      const logs = await h.server.tasks.logs(id, 0, 1000);
      const bars = logs.filter((l) => l.message.includes('steps:'));
      // 300 redraws; the log interval is a minute, so only finished bars (one per epoch boundary
      // and the end) are logged, each as its last state.
      assert.ok(bars.length >= 1 && bars.length <= 5, `${bars.length} progress lines logged`);
      assert.ok(
        bars.every((l) => !l.message.includes('\r')),
        'no carriage returns in the log',
      );
      assert.ok(
        bars.some((l) => l.message.includes('300/300')),
        'the last state of the bar is logged',
      );
      assert.ok(
        logs.some(
          (l) => l.level === 'warn' && /1 of 1 images .* have no \.txt caption/.test(l.message),
        ),
      );
      assert.ok(
        logs.some((l) => /1 images, 0 captions, 10 repeats/.test(l.message)),
        'counts in the log',
      );
    },
  );

  test('a KOHYA_PYTHON that cannot be started fails the task saying so', TIMEOUT, async () => {
    h = await startTrainHarness({ config: { kohyaPython: '/nonexistent/python3' } });
    h.dataset('sets/nopy', 1, 1);
    h.model('checkpoints', 'base.safetensors');
    const created = await h.post('/api/train/create', {
      dataset_dir: 'sets/nopy',
      base_model: 'base.safetensors',
    });
    const id = (created.body.data as { id: string }).id;
    const done = await h.waitFor(id, ['completed', 'failed', 'cancelled']);
    assert.equal(done.status, 'failed');
    assert.match(
      done.error_message ?? '',
      /cannot start the trainer \(\/nonexistent\/python3\): .*ENOENT/,
    );
  });

  test('a KOHYA_DIR without the trainer script refuses the task with 503', TIMEOUT, async () => {
    const notKohya = tempDir('tailor-not-kohya-');
    h = await startTrainHarness({ config: { kohyaDir: notKohya } });
    h.dataset('sets/x', 1, 1);
    h.model('checkpoints', 'base.safetensors');
    const created = await h.post('/api/train/create', {
      dataset_dir: 'sets/x',
      base_model: 'base.safetensors',
      model_family: 'sdxl',
    });
    assert.equal(created.status, 503);
    assert.match(created.body.status.message, /no sdxl_train_network\.py/);
    rmSync(notKohya, { recursive: true, force: true });
  });

  test(
    'a trainer that exits non-zero fails the task with its last output lines',
    TIMEOUT,
    async () => {
      h = await startTrainHarness();
      h.dataset('sets/oom', 2, 2, { steps_per_epoch: 10, fail_at_step: 4 });
      h.model('checkpoints', 'base.safetensors');
      const created = await h.post('/api/train/create', {
        dataset_dir: 'sets/oom',
        base_model: 'base.safetensors',
        max_train_epochs: 2,
      });
      const id = (created.body.data as { id: string }).id;
      const done = await h.waitFor(id, ['completed', 'failed', 'cancelled']);
      assert.equal(done.status, 'failed');
      assert.match(done.error_message ?? '', /exited with code 1/);
      assert.match(done.error_message ?? '', /Traceback \(most recent call last\):/);
      assert.match(done.error_message ?? '', /CUDA out of memory/);
      // The partial result still tells how far it got.
      assert.ok((trainResultOf(done).steps ?? 0) >= 3);
    },
  );

  test(
    "a re-run's result lists only the files of its own attempt, not the earlier attempt's",
    TIMEOUT,
    async () => {
      h = await startTrainHarness();
      const dir = h.dataset('sets/rerun', 1, 1, { steps_per_epoch: 3 });
      h.model('checkpoints', 'base.safetensors');
      const created = await h.post('/api/train/create', {
        dataset_dir: 'sets/rerun',
        base_model: 'base.safetensors',
        output_name: 'rerun',
        max_train_epochs: 3,
        save_every_n_epochs: 1,
      });
      const id = (created.body.data as { id: string }).id;
      const first = await h.waitFor(id, ['completed', 'failed', 'cancelled']);
      assert.equal(first.status, 'completed', first.error_message ?? '');
      assert.equal(trainResultOf(first).loras.length, 3);
      // Let the earlier files age past the attempt's timestamp slack.
      const old = new Date(Date.now() - 60_000);
      const outputDir = h.server.tasks.outputDirOf(id);
      for (const name of readdirSync(outputDir)) utimesSync(join(outputDir, name), old, old);

      writeFileSync(
        join(dir, 'fake_kohya.json'),
        JSON.stringify({ steps_per_epoch: 3, fail_at_step: 5 }),
      );
      await h.server.client.call('/api/task/start', { task_id: id });
      const second = await h.waitFor(id, ['failed', 'completed', 'cancelled']);
      assert.equal(second.status, 'failed');
      assert.deepEqual(
        trainResultOf(second).loras.map((l) => l.file),
        ['rerun-000001.safetensors'],
        'only the epoch saved by the failed attempt',
      );
      assert.equal(trainResultOf(second).final, null);
    },
  );

  test(
    'the final LoRA is copied into SD_WEBUI_LORA_DIR and listed by GET /api/train/loras',
    TIMEOUT,
    async () => {
      const loraDir = join(tmpdir(), `tailor-webui-loras-${process.pid}-${Date.now()}`);
      h = await startTrainHarness({ config: { sdWebuiLoraDir: loraDir } });
      h.dataset('sets/w', 1, 1, { steps_per_epoch: 2 });
      h.model('checkpoints', 'base.safetensors');
      const created = await h.post('/api/train/create', {
        dataset_dir: 'sets/w',
        base_model: 'base.safetensors',
        output_name: 'webui-ready',
        max_train_epochs: 1,
      });
      const id = (created.body.data as { id: string }).id;
      const done = await h.waitFor(id, ['completed', 'failed', 'cancelled']);
      assert.equal(done.status, 'completed', done.error_message ?? '');
      const result = trainResultOf(done);
      const copy = join(loraDir, 'webui-ready.safetensors');
      assert.equal(result.webui_lora, copy);
      assert.equal(sha256File(copy), result.final?.sha256);
      assert.deepEqual(
        readdirSync(loraDir),
        ['webui-ready.safetensors'],
        'no temporary file is left',
      );

      const listed = await h.get('/api/train/loras');
      assert.equal(listed.status, 200);
      assert.deepEqual((listed.body.data as { loras: unknown[] }).loras, [
        {
          name: 'webui-ready',
          task_id: id,
          file: 'webui-ready.safetensors',
          size: result.final?.size,
          sha256: result.final?.sha256,
          created: done.completed_at,
          webui_lora: copy,
        },
      ]);
      rmSync(loraDir, { recursive: true, force: true });
    },
  );
});
