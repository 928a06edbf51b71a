import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ErrorCode } from '../../../src/domain/errors.js';
import { tempDir } from '../../helpers/server.js';
import { startTrainHarness, type ApiBody, type TrainHarness } from './harness.js';

const TIMEOUT = { timeout: 60_000 };

interface FieldDetails {
  fields?: { path: string; message: string }[];
}

const fieldsOf = (body: ApiBody): string[] =>
  ((body.status.details as FieldDetails | undefined)?.fields ?? []).map((f) => f.path);

describe('creating a train task checks its config, paths and dataset', () => {
  let h: TrainHarness;
  let outside: string;
  let imageRoot: string;

  before(async () => {
    outside = tempDir('tailor-train-outside-');
    imageRoot = tempDir('tailor-train-root-');
    for (const dir of [outside, imageRoot]) {
      writeFileSync(join(dir, 'a.png'), 'png');
      writeFileSync(join(dir, 'a.txt'), 'caption');
      writeFileSync(join(dir, 'base.safetensors'), 'weights');
    }
    h = await startTrainHarness({ config: { imageRoots: imageRoot } });
    h.dataset('sets/ok', 2, 1);
    h.dataset('sets/empty', 0, 0);
    writeFileSync(join(h.dataDir, 'sets/empty/readme.txt'), 'no images here');
    h.model('checkpoints', 'base.safetensors');
    symlinkSync(outside, join(h.dataDir, 'sets/link-out'));
  });
  after(async () => {
    await h.close();
    for (const dir of [outside, imageRoot]) rmSync(dir, { recursive: true, force: true });
  });

  const valid = { dataset_dir: 'sets/ok', base_model: 'base.safetensors', max_train_epochs: 1 };
  const create = (config: Record<string, unknown>) => h.post('/api/train/create', config);

  test(
    'dataset folders outside the data dir and image roots are refused with 403',
    TIMEOUT,
    async () => {
      for (const dataset_dir of [outside, '../escape', 'sets/link-out', ['sets/ok', '/etc']]) {
        const response = await create({ ...valid, dataset_dir });
        assert.equal(response.status, 403, JSON.stringify(dataset_dir));
        assert.equal(response.body.status.code, ErrorCode.FORBIDDEN_PATH);
        assert.match(response.body.status.message, /\/config\/dataset_dir/);
      }
      const inRoot = await create({ ...valid, dataset_dir: imageRoot });
      assert.equal(inRoot.status, 200, 'a folder under TAILOR_IMAGE_ROOTS is allowed');
    },
  );

  test(
    'a base model outside the allowed roots is a 403, a missing one a 404',
    TIMEOUT,
    async () => {
      const out = await create({ ...valid, base_model: join(outside, 'base.safetensors') });
      assert.equal(out.status, 403);
      assert.match(out.body.status.message, /\/config\/base_model/);
      const relative = await create({ ...valid, base_model: '../checkpoints/base.safetensors' });
      assert.equal(relative.status, 400);
      assert.deepEqual(fieldsOf(relative.body), ['/config/base_model']);
      const missing = await create({ ...valid, base_model: 'nope.safetensors' });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.status.code, ErrorCode.RESOURCE_NOT_FOUND);
      const wrongKind = await create({ ...valid, base_model: join(imageRoot, 'a.png') });
      assert.equal(wrongKind.status, 400);
      const inRoot = await create({ ...valid, base_model: join(imageRoot, 'base.safetensors') });
      assert.equal(inRoot.status, 200, JSON.stringify(inRoot.body));
    },
  );

  test(
    'a folder without images, or no folder at all, is a 400 naming the field',
    TIMEOUT,
    async () => {
      const empty = await create({ ...valid, dataset_dir: 'sets/empty' });
      assert.equal(empty.status, 400);
      assert.deepEqual(fieldsOf(empty.body), ['/config/dataset_dir']);
      assert.match(empty.body.status.message, /holds no images/);
      const missing = await create({ ...valid, dataset_dir: ['sets/ok', 'sets/none'] });
      assert.equal(missing.status, 400);
      assert.deepEqual(fieldsOf(missing.body), ['/config/dataset_dir/1']);
      const none = await create({ base_model: 'base.safetensors' });
      assert.equal(none.status, 400);
      assert.deepEqual(fieldsOf(none.body), ['/config/dataset_dir']);
    },
  );

  test('bad fields are 400s naming each field under /config', TIMEOUT, async () => {
    const cases: [Record<string, unknown>, string[]][] = [
      [{ network_dim: '32' }, ['/config/network_dim']],
      [{ model_family: 'sd3' }, ['/config/model_family']],
      [{ optimizer_type: 'Adam; rm -rf /' }, ['/config/optimizer_type']],
      [{ output_name: '../evil' }, ['/config/output_name']],
      [{ sample_prompts: ['a\n--evil'] }, ['/config/sample_prompts/0']],
      [{ max_train_steps: 100 }, ['/config/max_train_steps']],
      [{ sample_every_n_epochs: 1 }, ['/config/sample_prompts']],
      [{ model_family: 'flux' }, ['/config/clip_l', '/config/t5xxl', '/config/ae']],
      [
        { datasets: [{ dir: 'sets/ok', task_id: 'x' }], dataset_dir: undefined },
        ['/config/datasets/0/dir'],
      ],
      [{ unknown_field: 1 }, ['/config/unknown_field']],
    ];
    for (const [change, fields] of cases) {
      const response = await create({ ...valid, ...change });
      assert.equal(response.status, 400, JSON.stringify(change));
      assert.deepEqual(fieldsOf(response.body), fields, JSON.stringify(change));
    }
  });

  test(
    'extra_args outside the allow-list, or of the wrong type, are refused by name',
    TIMEOUT,
    async () => {
      const unknown = await create({
        ...valid,
        extra_args: { gradient_checkpointing: true, network_module: 'evil', pre_script: 'x' },
      });
      assert.equal(unknown.status, 400);
      assert.deepEqual(fieldsOf(unknown.body).sort(), [
        '/config/extra_args/network_module',
        '/config/extra_args/pre_script',
      ]);
      const typed = await create({ ...valid, extra_args: { clip_skip: '2', noise_offset: 5 } });
      assert.equal(typed.status, 400);
      assert.deepEqual(fieldsOf(typed.body).sort(), [
        '/config/extra_args/clip_skip',
        '/config/extra_args/noise_offset',
      ]);
      const ok = await create({ ...valid, extra_args: { clip_skip: 2, xformers: true } });
      assert.equal(ok.status, 200);
    },
  );

  test(
    'dataset_task_ids name earlier tasks: their output folders, or 404 for a missing task',
    TIMEOUT,
    async () => {
      const missing = await create({
        ...valid,
        dataset_dir: undefined,
        dataset_task_ids: ['no-such-task'],
      });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.status.code, ErrorCode.TASK_NOT_FOUND);

      const earlier = await h.server.client.call<{ id: string }>('/api/task/create', {
        type: 'alpha',
        config: {},
      });
      const folder = h.server.tasks.outputDirOf(earlier.id);
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, '1_p0.jpg'), 'jpg');
      const generic = await h.post('/api/task/create', {
        type: 'train',
        config: { ...valid, dataset_dir: undefined, dataset_task_ids: [earlier.id] },
      });
      assert.equal(generic.status, 200, JSON.stringify(generic.body));
      assert.equal((generic.body.data as { type: string }).type, 'train');
    },
  );

  test('the create route and the LoRA list are in the OpenAPI document', TIMEOUT, async () => {
    const response = await fetch(`${h.server.url}/openapi.json`);
    const { paths } = (await response.json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    assert.ok(paths['/api/train/create']?.post, 'POST /api/train/create documented');
    assert.ok(paths['/api/train/loras']?.get, 'GET /api/train/loras documented');
    assert.match(JSON.stringify(paths['/api/train/create']), /network_dim/);
  });
});

describe('a node without KOHYA_DIR', () => {
  test(
    'says so in /api/task-types and queues trainings for a node that has it',
    TIMEOUT,
    async () => {
      const h = await startTrainHarness({ config: { kohyaDir: undefined } });
      try {
        const types = await h.get('/api/task-types');
        const train = (
          types.body.data as { types: { type: string; runnable: boolean; description: string }[] }
        ).types.find((t) => t.type === 'train');
        assert.equal(train?.runnable, false);
        assert.match(train?.description ?? '', /KOHYA_DIR is not set/);
        // The dataset is another node's folder: it is not checked here.
        const created = await h.post('/api/train/create', {
          dataset_dir: 'on-the-gpu-node',
          base_model: 'base.safetensors',
        });
        assert.equal(created.status, 200, JSON.stringify(created.body));
        const id = (created.body.data as { id: string }).id;
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.equal((await h.server.client.getTask(id)).status, 'pending');
        // Field rules still hold everywhere.
        const bad = await h.post('/api/train/create', { base_model: 'base.safetensors' });
        assert.equal(bad.status, 400);
      } finally {
        await h.close();
      }
    },
  );
});

describe('POST /api/train/create with a body that is not an object', () => {
  test('is a 400, never a server error', TIMEOUT, async () => {
    const h = await startTrainHarness();
    try {
      for (const body of [null, [1, 2], 'train', 7]) {
        const response = await h.post('/api/train/create', body);
        assert.equal(response.status, 400, JSON.stringify(body));
      }
    } finally {
      await h.close();
    }
  });
});
