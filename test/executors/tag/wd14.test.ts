import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { expectedScores, installWd14Model } from '../../fakes/wd14-model.js';
import { eventually } from '../../helpers/server.js';
import { BLUE, GREEN, RED, startTagHarness, writeImage, type TagHarness } from './harness.js';

const TIMEOUT = { timeout: 60_000 };
const read = (path: string): string => readFileSync(path, 'utf8');

describe('tag with a local WD14 model', () => {
  let h: TagHarness;
  afterEach(async () => {
    await h.close();
  });

  test(
    'captions follow the image colours: BGR channel order, 0–255 scale, alpha and square padding onto white',
    TIMEOUT,
    async () => {
      h = await startTagHarness();
      const dir = join(h.images, 'set');
      await writeImage(join(dir, 'red.png'), RED);
      await writeImage(join(dir, 'blue.jpg'), BLUE);
      await writeImage(join(dir, 'green.webp'), GREEN);
      // 64×16 red: a quarter of the square is red, the padding white.
      await writeImage(join(dir, 'wide.png'), RED, { width: 64, height: 16 });
      // Fully transparent black: white once composited onto white.
      await writeImage(join(dir, 'clear.png'), [0, 0, 0], { alpha: 0 });
      const { result } = await h.tagAndWait({ input_dir: dir, analyzer: 'wd14tagger' });
      assert.equal(read(join(dir, 'red.txt')), 'red hair, 1girl\n');
      assert.equal(read(join(dir, 'blue.txt')), 'blue eyes, 1girl\n');
      assert.equal(read(join(dir, 'green.txt')), 'hatsune miku, ^_^, long hair, 1girl\n');
      assert.equal(
        read(join(dir, 'wide.txt')),
        'white background, ^_^, long hair, 1girl, red hair\n',
      );
      assert.equal(
        read(join(dir, 'clear.txt')),
        'hatsune miku, white background, ^_^, long hair, 1girl\n',
      );
      assert.equal(result.images, 5);
      assert.equal(result.tagged, 5);
      assert.equal(result.unreadable, 0);
      assert.equal(result.analyzer, 'wd14');
      assert.equal(result.model, 'fake-tagger');
      assert.equal(result.output_dir, null);
    },
  );

  test(
    'every image format is read (jpg jpeg png webp gif bmp avif), other files are ignored, corrupt ones are counted unreadable',
    TIMEOUT,
    async () => {
      h = await startTagHarness();
      const dir = join(h.images, 'formats');
      for (const ext of ['jpg', 'jpeg', 'png', 'webp', 'gif', 'bmp', 'avif']) {
        await writeImage(join(dir, `red_${ext}.${ext}`), RED);
      }
      writeFileSync(join(dir, 'notes.md'), 'not an image');
      writeFileSync(join(dir, 'broken.png'), Buffer.from('\x89PNG\r\n\x1a\n garbage garbage'));
      writeFileSync(join(dir, 'empty.jpg'), Buffer.alloc(0));
      const created = await h.tag({ input_dir: dir });
      const { task, result } = await h.waitDone(created.id);
      assert.equal(task.status, 'completed', task.error_message ?? '');
      for (const ext of ['jpg', 'jpeg', 'png', 'webp', 'gif', 'bmp', 'avif']) {
        assert.equal(read(join(dir, `red_${ext}.txt`)), 'red hair, 1girl\n', ext);
      }
      assert.equal(existsSync(join(dir, 'notes.txt')), false);
      assert.equal(existsSync(join(dir, 'broken.txt')), false);
      assert.equal(result.images, 9);
      assert.equal(result.tagged, 7);
      assert.equal(result.unreadable, 2);
      assert.deepEqual(result.unreadable_files, ['broken.png', 'empty.jpg']);
      const logs = await h.server.client.getLogs(task.id, {});
      assert.ok(logs.logs.some((l) => l.level === 'warn' && l.message.includes('broken.png')));
    },
  );

  test(
    'json captions hold every kept tag with its score and category, and the ratings',
    TIMEOUT,
    async () => {
      h = await startTagHarness();
      const dir = join(h.images, 'json');
      await writeImage(join(dir, 'red.png'), RED);
      writeFileSync(join(dir, 'red.json'), '{"sidecar":"of a crawl"}');
      await h.tagAndWait({ input_dir: dir, save_type: 'json' });
      // The crawl/generation sidecar is untouched.
      assert.equal(read(join(dir, 'red.json')), '{"sidecar":"of a crawl"}');
      const json = JSON.parse(read(join(dir, 'red.tags.json'))) as {
        image: string;
        caption: string;
        model: string;
        tags: { name: string; score: number; category: string }[];
        rating: Record<string, number>;
      };
      const expected = expectedScores(RED);
      assert.equal(json.image, 'red.png');
      assert.equal(json.model, 'fake-tagger');
      assert.equal(json.caption, 'red hair, 1girl');
      assert.deepEqual(
        json.tags.map((t) => [t.name, t.category]),
        [
          ['red_hair', 'general'],
          ['1girl', 'general'],
        ],
      );
      for (const tag of json.tags) assert.ok(Math.abs(tag.score - expected.get(tag.name)!) < 1e-4);
      assert.deepEqual(Object.keys(json.rating), [
        'general',
        'sensitive',
        'questionable',
        'explicit',
      ]);
      assert.ok(Math.abs(json.rating.sensitive! - expected.get('sensitive')!) < 1e-4);
      assert.equal(existsSync(join(dir, 'red.txt')), false);
    },
  );

  test(
    'csv writes one quoted tags.csv in the task folder, recursive includes subfolders, output_dir mirrors them',
    TIMEOUT,
    async () => {
      h = await startTagHarness();
      const dir = join(h.images, 'tree');
      await writeImage(join(dir, 'red.png'), RED);
      await writeImage(join(dir, 'blue.jpg'), BLUE);
      await writeImage(join(dir, 'sub', 'green.png'), GREEN);

      const csv = await h.tagAndWait({ input_dir: dir, save_type: 'csv', recursive: true });
      assert.equal(csv.result.csv, join(h.server.tasks.outputDirOf(csv.task.id), 'tags.csv'));
      assert.equal(
        read(csv.result.csv!),
        'image,caption\n' +
          'blue.jpg,"blue eyes, 1girl"\n' +
          'red.png,"red hair, 1girl"\n' +
          'sub/green.png,"hatsune miku, ^_^, long hair, 1girl"\n',
      );
      assert.deepEqual(readdirSync(dir).sort(), ['blue.jpg', 'red.png', 'sub']);

      // Not recursive: the subfolder is left alone.
      const flat = await h.tagAndWait({ input_dir: dir });
      assert.equal(flat.result.images, 2);
      assert.equal(existsSync(join(dir, 'sub', 'green.txt')), false);

      const out = join(h.images, 'captions');
      const mirrored = await h.tagAndWait({ input_dir: dir, output_dir: out, recursive: true });
      assert.equal(mirrored.result.output_dir, out);
      assert.equal(read(join(out, 'red.txt')), 'red hair, 1girl\n');
      assert.equal(read(join(out, 'sub', 'green.txt')), 'hatsune miku, ^_^, long hair, 1girl\n');
      assert.equal(existsSync(join(dir, 'sub', 'green.txt')), false);
    },
  );

  test(
    'images sharing a stem are all tagged: the first in sorted order keeps <stem>.txt, the next gets <name>.txt, with a warning',
    TIMEOUT,
    async () => {
      h = await startTagHarness();
      const dir = join(h.images, 'same');
      await writeImage(join(dir, 'a.png'), RED);
      await writeImage(join(dir, 'a.jpg'), BLUE);
      const { task, result } = await h.tagAndWait({ input_dir: dir });
      assert.equal(read(join(dir, 'a.txt')), 'blue eyes, 1girl\n');
      assert.equal(read(join(dir, 'a.png.txt')), 'red hair, 1girl\n');
      assert.equal(result.tagged, 2);
      assert.equal(result.collisions, 1);
      const logs = await h.server.client.getLogs(task.id, {});
      assert.ok(
        logs.logs.some(
          (l) =>
            l.level === 'warn' &&
            l.message.includes('a.png and a.jpg share the caption name a.txt'),
        ),
      );
      // A re-run maps them the same way and skips both.
      const again = await h.tagAndWait({ input_dir: dir });
      assert.equal(again.result.skipped_existing, 2);
    },
  );

  test('selection options reach the caption, under the original names too', TIMEOUT, async () => {
    h = await startTagHarness();
    const dir = join(h.images, 'opts');
    await writeImage(join(dir, 'blue.png'), BLUE);
    await h.tagAndWait({
      input_dir: dir,
      character_threshold: 0.8,
      escape_brackets: true,
      extend_tags: 'sks, blue eyes',
      skip_tags: ['1girl'],
      include_rating: true,
    });
    assert.equal(read(join(dir, 'blue.txt')), 'sks, blue eyes, general, rem \\(re:zero\\)\n');
    await h.tagAndWait({
      input_dir: dir,
      overwrite: true,
      threshold: 0.9,
      replace_underscores: false,
    });
    assert.equal(read(join(dir, 'blue.txt')), 'blue_eyes\n');
    await h.tagAndWait({ input_dir: dir, overwrite: true, mcut: true, threshold: 0.99 });
    // MCut replaces the 0.99: general scores 0.9997, 0.8176, 0.1192… are cut at 0.468; the
    // characters 0.8176 and 0.0009 at 0.409, below the 0.85 that kept rem out by default.
    assert.equal(read(join(dir, 'blue.txt')), 'rem (re:zero), blue eyes, 1girl\n');
  });

  test(
    'paths outside the allowed folders are refused with 403 and no task: absolute, .., a symlink out, output_dir',
    TIMEOUT,
    async () => {
      h = await startTagHarness();
      await writeImage(join(h.outside, 'secret.png'), RED);
      symlinkSync(h.outside, join(h.images, 'link-out'));
      const attempts: Record<string, unknown>[] = [
        { input_dir: h.outside },
        { input_dir: '../..' + h.outside },
        { input_dir: '..' },
        { input_dir: join(h.images, 'link-out') },
        { input_dir: [h.images, h.outside] },
        { input_dir: h.images, output_dir: h.outside },
        { input_dir: h.images, output_dir: '../escape' },
      ];
      for (const config of attempts) {
        const answer = await h.post('/api/tag/create', config);
        assert.equal(answer.status, 403, JSON.stringify(config));
        assert.equal(answer.body!.status.code, 40300);
        const generic = await h.post('/api/task/create', { type: 'tag', config });
        assert.equal(generic.status, 403, JSON.stringify(config));
      }
      const unknownTask = await h.post('/api/tag/create', { input_task_id: 'nosuchtask' });
      assert.equal(unknownTask.status, 404);
      const none = await h.post('/api/tag/create', {});
      assert.equal(none.status, 400);
      const { pagination } = await h.server.client.getTasks({ type: 'tag' });
      assert.equal(pagination.total, 0);
      assert.equal(existsSync(join(h.outside, 'secret.txt')), false);

      // A link inside an input folder that points out is skipped, not followed.
      const dir = join(h.images, 'mixed');
      await writeImage(join(dir, 'red.png'), RED);
      symlinkSync(join(h.outside, 'secret.png'), join(dir, 'secret.png'));
      const { result } = await h.tagAndWait({ input_dir: dir });
      assert.equal(result.images, 1);
      assert.equal(existsSync(join(dir, 'secret.txt')), false);
    },
  );

  test(
    "relative input folders resolve against the data dir; input_task_id tags an earlier task's folder",
    TIMEOUT,
    async () => {
      h = await startTagHarness();
      await writeImage(join(h.server.dataDir, 'datasets', 'one', 'red.png'), RED);
      const relative = await h.tagAndWait({ input_dir: 'datasets/one' });
      assert.equal(relative.result.tagged, 1);
      assert.equal(read(join(h.server.dataDir, 'datasets', 'one', 'red.txt')), 'red hair, 1girl\n');

      const earlier = await h.server.client.createTask('alpha', {});
      await eventually(
        async () => (await h.server.client.getTask(earlier.id)).status === 'completed',
      );
      const folder = h.server.tasks.outputDirOf(earlier.id);
      await writeImage(join(folder, '123_p0.png'), GREEN);
      writeFileSync(join(folder, '123.json'), '{}');
      const fromTask = await h.tagAndWait({ input_task_id: earlier.id });
      assert.equal(fromTask.result.tagged, 1);
      assert.equal(read(join(folder, '123_p0.txt')), 'hatsune miku, ^_^, long hair, 1girl\n');
    },
  );

  test(
    'stopping mid-run keeps the captions written so far; a re-run skips them and tags the rest',
    TIMEOUT,
    async () => {
      h = await startTagHarness();
      const dir = join(h.images, 'many');
      await writeImage(join(dir, 'seed.jpg'), RED, { width: 1200, height: 1700 });
      const bytes = readFileSync(join(dir, 'seed.jpg'));
      const count = 400;
      for (let i = 0; i < count; i++) {
        writeFileSync(join(dir, `img${String(i).padStart(4, '0')}.jpg`), bytes);
      }
      const total = count + 1;
      const created = await h.tag({ input_dir: dir, batch_size: 2 });
      await eventually(
        () => readdirSync(dir).some((name) => name.endsWith('.txt')),
        30_000,
        'a first caption',
      );
      await h.server.client.stopTask(created.id);
      const stopped = await h.waitDone(created.id);
      assert.equal(stopped.task.status, 'cancelled');
      const written = readdirSync(dir).filter((name) => name.endsWith('.txt'));
      assert.ok(written.length > 0 && written.length < total, `${written.length} captions`);
      // No half-written caption or temporary file was left behind.
      assert.deepEqual(
        readdirSync(dir).filter((name) => name.endsWith('.tmp')),
        [],
      );
      // A 1200×1700 page padded to a square is about 28 % white.
      for (const name of written) {
        assert.equal(read(join(dir, name)), 'red hair, 1girl, white background\n');
      }

      await h.server.client.startTask(created.id);
      const resumed = await h.waitDone(created.id);
      assert.equal(resumed.task.status, 'completed');
      assert.equal(resumed.result.skipped_existing, written.length);
      assert.equal(resumed.result.tagged, total - written.length);
      assert.equal(readdirSync(dir).filter((name) => name.endsWith('.txt')).length, total);
    },
  );

  test(
    'the model is loaded once and reused by the next task, and reloaded when its files change',
    TIMEOUT,
    async () => {
      h = await startTagHarness();
      const dir = join(h.images, 'cache');
      await writeImage(join(dir, 'red.png'), RED);
      const first = await h.tagAndWait({ input_dir: dir });
      assert.equal(first.result.model_cache, 'loaded');
      const second = await h.tagAndWait({ input_dir: dir, overwrite: true });
      assert.equal(second.result.model_cache, 'reused');
      // A model replaced on disk (a new pull) is loaded again: here with another input size.
      installWd14Model(h.modelsDir, 'fake-tagger', { size: 48 });
      const third = await h.tagAndWait({ input_dir: dir, overwrite: true });
      assert.equal(third.result.model_cache, 'loaded');
      const models = await h.server.client.call<{ models: { name: string; input_size: number }[] }>(
        '/api/tag/models',
        undefined,
        'GET',
      );
      assert.equal(models.models[0]!.input_size, 48);
    },
  );

  test(
    'model choice: the only installed one by default, a 400 listing them when several, TAILOR_WD14_MODEL as the default',
    TIMEOUT,
    async () => {
      h = await startTagHarness();
      // A model whose batch dimension is fixed at 1 still tags batches of any size.
      installWd14Model(h.modelsDir, 'fixed-batch', { batch: 1, size: 64 });
      const dir = join(h.images, 'choice');
      await writeImage(join(dir, 'red.png'), RED);
      await writeImage(join(dir, 'green.png'), GREEN);
      await writeImage(join(dir, 'blue.png'), BLUE);
      const refused = await h.post('/api/tag/create', { input_dir: dir });
      assert.equal(refused.status, 400);
      assert.match(refused.body!.status.message, /installed: fake-tagger, fixed-batch/);
      const unknown = await h.post('/api/tag/create', { input_dir: dir, model: 'nope' });
      assert.equal(unknown.status, 400);

      const { result } = await h.tagAndWait({
        input_dir: dir,
        model: 'fixed-batch',
        batch_size: 8,
      });
      assert.equal(result.tagged, 3);
      assert.equal(read(join(dir, 'green.txt')), 'hatsune miku, ^_^, long hair, 1girl\n');

      const models = await h.server.client.call<{
        models: { name: string; tags: number; input_size: number; batch: number | string }[];
      }>('/api/tag/models', undefined, 'GET');
      assert.deepEqual(models.models, [
        { name: 'fake-tagger', tags: 8, input_size: 32, batch: 'dynamic' },
        { name: 'fixed-batch', tags: 8, input_size: 64, batch: 1 },
      ]);
      await h.close();

      h = await startTagHarness({ wd14Model: 'fake-tagger' });
      installWd14Model(h.modelsDir, 'fixed-batch', { batch: 1 });
      await writeImage(join(h.images, 'd', 'red.png'), RED);
      const defaulted = await h.tagAndWait({ input_dir: join(h.images, 'd') });
      assert.equal(defaulted.result.model, 'fake-tagger');
    },
  );

  test(
    '/api/tag/analyze tags one image given as base64 or as a confined path',
    TIMEOUT,
    async () => {
      h = await startTagHarness();
      const path = join(h.images, 'one', 'green.png');
      await writeImage(path, GREEN);
      const base64 = readFileSync(path).toString('base64');
      const answer = await h.post('/api/tag/analyze', { image: base64 });
      assert.equal(answer.status, 200, answer.text);
      const data = answer.body!.data as {
        caption: string;
        tags: { name: string; score: number; category: string }[];
        rating: Record<string, number>;
      };
      assert.equal(data.caption, 'hatsune miku, ^_^, long hair, 1girl');
      assert.deepEqual(
        data.tags.map((t) => `${t.name}:${t.category}`),
        ['hatsune_miku:character', '^_^:general', 'long_hair:general', '1girl:general'],
      );
      const expected = expectedScores(GREEN);
      assert.ok(Math.abs(data.tags[0]!.score - expected.get('hatsune_miku')!) < 1e-4);
      assert.deepEqual(Object.keys(data.rating).sort(), [
        'explicit',
        'general',
        'questionable',
        'sensitive',
      ]);

      const byPath = await h.post('/api/tag/analyze', {
        path,
        exclude_tags: ['1girl'],
        tag_order: 'alpha',
      });
      assert.equal(
        (byPath.body!.data as { caption: string }).caption,
        'hatsune miku, ^_^, long hair',
      );

      const outside = await h.post('/api/tag/analyze', { path: join(h.outside, 'x.png') });
      assert.equal(outside.status, 403);
      const garbage = await h.post('/api/tag/analyze', {
        image: Buffer.from('no image').toString('base64'),
      });
      assert.equal(garbage.status, 400);
      assert.match(garbage.body!.status.message, /unreadable/);
      const both = await h.post('/api/tag/analyze', { image: base64, path });
      assert.equal(both.status, 400);
    },
  );
});

describe('tag refuses configs', () => {
  test(
    "a corrupt model file fails the task with the loader's message and is listed with its error",
    TIMEOUT,
    async () => {
      const h = await startTagHarness();
      try {
        writeFileSync(join(h.modelsDir, 'wd14', 'fake-tagger', 'model.onnx'), 'not an onnx model');
        await writeImage(join(h.images, 'c', 'red.png'), RED);
        const created = await h.tag({ input_dir: join(h.images, 'c') });
        const { task } = await h.waitDone(created.id);
        assert.equal(task.status, 'failed');
        assert.match(task.error_message ?? '', /model fake-tagger/);
        assert.equal(existsSync(join(h.images, 'c', 'red.txt')), false);
        const models = await h.server.client.call<{ models: { name: string; error?: string }[] }>(
          '/api/tag/models',
          undefined,
          'GET',
        );
        assert.equal(models.models[0]!.name, 'fake-tagger');
        assert.match(models.models[0]!.error ?? '', /model fake-tagger/);
      } finally {
        await h.close();
      }
    },
  );

  test('a missing models folder is a 400 that says how to pull one', TIMEOUT, async () => {
    const h = await startTagHarness({ installModel: false });
    try {
      mkdirSync(join(h.images, 'x'));
      const answer = await h.post('/api/tag/create', { input_dir: join(h.images, 'x') });
      assert.equal(answer.status, 400);
      assert.match(answer.body!.status.message, /tailor models pull/);
      const models = await h.server.client.call<{ models: unknown[] }>(
        '/api/tag/models',
        undefined,
        'GET',
      );
      assert.deepEqual(models.models, []);
    } finally {
      await h.close();
    }
  });
});
