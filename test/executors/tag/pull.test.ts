import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { pullModel } from '../../../src/executors/tag/pull.js';
import { FakeHfHub } from '../../fakes/hf-hub.js';
import { buildWd14Model, selectedTagsCsv } from '../../fakes/wd14-model.js';
import { startTagHarness, writeImage, RED } from './harness.js';
import { tempDir } from '../../helpers/server.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));
const TIMEOUT = { timeout: 60_000 };

/** A model large enough to be cut mid-way: the fake tagger plus 3 MB of unused weights. */
const MODEL = buildWd14Model({ paddingBytes: 3 * 1024 * 1024 });
const TAGS = selectedTagsCsv();
const REPO = 'SmilingWolf/wd-vit-tagger-v3';

async function tailor(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', CLI, ...args], {
      env: { ...process.env, ...env },
    });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

describe('tailor models pull', () => {
  let hub: FakeHfHub;
  let models: string;
  beforeEach(async () => {
    hub = await FakeHfHub.start({
      [`${REPO}/model.onnx`]: MODEL,
      [`${REPO}/selected_tags.csv`]: Buffer.from(TAGS),
    });
    models = tempDir('tailor-pull-');
  });
  afterEach(async () => {
    await hub.close();
    rmSync(models, { recursive: true, force: true });
  });

  test(
    'downloads model.onnx and selected_tags.csv into <models>/wd14/<name>',
    TIMEOUT,
    async () => {
      const result = await pullModel({ repo: REPO, modelsDir: models, endpoint: hub.url });
      const dir = join(models, 'wd14', 'wd-vit-tagger-v3');
      assert.equal(result.dir, dir);
      assert.deepEqual(readFileSync(join(dir, 'model.onnx')), Buffer.from(MODEL));
      assert.equal(readFileSync(join(dir, 'selected_tags.csv'), 'utf8'), TAGS);
      assert.deepEqual(
        hub.requests.filter((r) => r.status !== 302).map((r) => [r.path, r.range]),
        [
          [`/cdn/${REPO}/model.onnx`, null],
          [`/cdn/${REPO}/selected_tags.csv`, null],
        ],
      );
      // A second pull finds the files and downloads nothing.
      const again = await pullModel({ repo: REPO, modelsDir: models, endpoint: hub.url });
      assert.ok(again.files.every((f) => f.skipped));
      assert.equal(hub.requests.length, 4);
    },
  );

  test(
    'an interrupted download leaves only a .part file; the next pull resumes it with a Range request',
    TIMEOUT,
    async () => {
      hub.cutAfter(1024 * 1024);
      await assert.rejects(
        pullModel({ repo: REPO, modelsDir: models, endpoint: hub.url, retries: 0 }),
        /download interrupted.*run the pull again to resume/,
      );
      const dir = join(models, 'wd14', 'wd-vit-tagger-v3');
      assert.equal(existsSync(join(dir, 'model.onnx')), false);
      const kept = statSync(join(dir, 'model.onnx.part')).size;
      assert.ok(kept > 0 && kept < MODEL.length, `${kept} bytes kept`);

      const result = await pullModel({ repo: REPO, modelsDir: models, endpoint: hub.url });
      assert.deepEqual(readFileSync(join(dir, 'model.onnx')), Buffer.from(MODEL));
      assert.equal(existsSync(join(dir, 'model.onnx.part')), false);
      assert.equal(result.files[0]!.resumed, true);
      const resumed = hub.requests.filter((r) => r.range !== null && r.status !== 302);
      assert.deepEqual(resumed, [
        { path: `/cdn/${REPO}/model.onnx`, range: `bytes=${kept}-`, status: 206 },
      ]);
    },
  );

  test(
    'a connection cut mid-way is retried within one pull from where it stopped',
    TIMEOUT,
    async () => {
      hub.cutAfter(700_000, 2);
      const result = await pullModel({
        repo: REPO,
        modelsDir: models,
        endpoint: hub.url,
        retryDelayMs: 10,
      });
      assert.deepEqual(readFileSync(join(result.dir, 'model.onnx')), Buffer.from(MODEL));
      const ranges = hub.requests
        .filter((r) => r.range !== null && r.status !== 302)
        .map((r) => r.range);
      assert.equal(ranges.length, 2);
    },
  );

  test(
    'a repo that does not exist fails with the status and leaves nothing behind',
    TIMEOUT,
    async () => {
      await assert.rejects(
        pullModel({ repo: 'nobody/nothing', modelsDir: models, endpoint: hub.url }),
        /HTTP 404 \(no such repo or file\)/,
      );
      assert.equal(existsSync(join(models, 'wd14', 'nothing', 'model.onnx')), false);
      await assert.rejects(
        pullModel({ repo: REPO, name: '../escape', modelsDir: models, endpoint: hub.url }),
        /plain folder name/,
      );
    },
  );

  test(
    'the CLI command resumes a cut download into TAILOR_MODELS_DIR, and the server then tags with the model',
    TIMEOUT,
    async () => {
      hub.cutAfter(1024 * 1024);
      const env = { HF_ENDPOINT: hub.url, TAILOR_MODELS_DIR: models };
      // One attempt only: the pull's own retries would hide the interruption.
      const first = await tailor(['models', 'pull', REPO, '--name', 'vit', '--retries', '0'], env);
      assert.notEqual(first.code, 0);
      assert.match(first.stderr, /run the pull again to resume/);
      const second = await tailor(['models', 'pull', REPO, '--name', 'vit'], env);
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stderr, /model\.onnx: resuming at/);
      assert.match(second.stdout, /model vit is in .*wd14\/vit/);
      assert.deepEqual(readFileSync(join(models, 'wd14', 'vit', 'model.onnx')), Buffer.from(MODEL));

      // The pulled model is what the server loads.
      const h = await startTagHarness({ installModel: false });
      try {
        await pullModel({ repo: REPO, name: 'vit', modelsDir: h.modelsDir, endpoint: hub.url });
        await writeImage(join(h.images, 'p', 'red.png'), RED);
        const { result } = await h.tagAndWait({ input_dir: join(h.images, 'p') });
        assert.equal(result.model, 'vit');
        assert.equal(readFileSync(join(h.images, 'p', 'red.txt'), 'utf8'), 'red hair, 1girl\n');
        const listed = await tailor(['--url', h.server.url, 'models', 'list'], {});
        assert.equal(listed.code, 0, listed.stderr);
        assert.match(listed.stdout, /vit\s+32px\s+8 tags/);
        const queued = await tailor(
          [
            '--url',
            h.server.url,
            '--json',
            'tag',
            join(h.images, 'p'),
            '--overwrite',
            '--threshold',
            '0.9',
            '--watch',
          ],
          {},
        );
        assert.equal(queued.code, 0, queued.stderr);
        assert.equal(readFileSync(join(h.images, 'p', 'red.txt'), 'utf8'), 'red hair\n');
      } finally {
        await h.close();
      }
    },
  );
});
