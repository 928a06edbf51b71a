import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { FakeWebuiTagger, type TaggerShape } from '../../fakes/webui-tagger.js';
import { eventually } from '../../helpers/server.js';
import { BLUE, GREEN, RED, startTagHarness, writeImage, type TagHarness } from './harness.js';

const TIMEOUT = { timeout: 60_000 };
const read = (path: string): string => readFileSync(path, 'utf8');

describe('tag with the WebUI tagger extension', () => {
  let h: TagHarness;
  let fake: FakeWebuiTagger;
  const fresh = async (options: { shape?: TaggerShape; delayMs?: number } = {}) => {
    fake = await FakeWebuiTagger.start(options);
    h = await startTagHarness({ webuiUrl: fake.url, installModel: false });
  };
  afterEach(async () => {
    await h.close();
    await fake.close();
  });

  for (const shape of ['flat', 'nested'] as const) {
    test(
      `answers in the ${shape} shape become captions without rating keys as tags`,
      TIMEOUT,
      async () => {
        await fresh({ shape });
        const dir = join(h.images, 'w');
        await writeImage(join(dir, 'red.png'), RED);
        await writeImage(join(dir, 'blue.png'), BLUE);
        await writeImage(join(dir, 'green.png'), GREEN);
        writeFileSync(join(dir, 'broken.png'), 'not a png');
        const { result } = await h.tagAndWait({
          input_dir: dir,
          analyzer: 'webui',
          model: 'wd-v1-4-moat-tagger.v2',
          threshold: 0.3,
          save_type: 'json',
        });
        const red = JSON.parse(read(join(dir, 'red.tags.json'))) as {
          caption: string;
          tags: { name: string }[];
          rating: Record<string, number>;
        };
        assert.equal(red.caption, '1girl, red hair, smile (happy)');
        assert.deepEqual(red.rating, {
          general: 0.2,
          sensitive: 0.7,
          questionable: 0.08,
          explicit: 0.02,
        });
        assert.ok(
          !red.tags.some((t) =>
            ['general', 'sensitive', 'questionable', 'explicit'].includes(t.name),
          ),
        );
        assert.equal(
          (JSON.parse(read(join(dir, 'blue.tags.json'))) as { caption: string }).caption,
          '1girl, blue eyes, smile (happy)',
        );
        // The kaomoji keeps its underscore.
        assert.equal(
          (JSON.parse(read(join(dir, 'green.tags.json'))) as { caption: string }).caption,
          '1girl, ^_^, smile (happy)',
        );
        assert.deepEqual(
          fake.calls.map((c) => [c.model, c.threshold]),
          Array.from({ length: 4 }, () => ['wd-v1-4-moat-tagger.v2', 0.3]),
        );
        assert.equal(result.analyzer, 'webui');
        assert.equal(result.tagged, 3);
        assert.equal(result.unreadable, 1);
        assert.deepEqual(result.unreadable_files, ['broken.png']);
      },
    );
  }

  test(
    'the threshold is applied to the answer too; include_rating writes the top rating',
    TIMEOUT,
    async () => {
      await fresh();
      const dir = join(h.images, 'r');
      await writeImage(join(dir, 'red.png'), RED);
      await h.tagAndWait({
        input_dir: dir,
        analyzer: 'webui',
        threshold: 0.5,
        include_rating: true,
      });
      assert.equal(read(join(dir, 'red.txt')), 'sensitive, 1girl, red hair\n');
    },
  );

  test(
    'an unreachable WebUI is a 503 at creation, an unknown interrogator a 400; nothing is queued',
    TIMEOUT,
    async () => {
      await fresh();
      const dir = join(h.images, 'x');
      await writeImage(join(dir, 'red.png'), RED);
      const unknown = await h.post('/api/tag/create', {
        input_dir: dir,
        analyzer: 'webui',
        model: 'nope',
      });
      assert.equal(unknown.status, 400);
      assert.match(unknown.body!.status.message, /wd14-vit-v2-git/);
      await fake.close();
      const down = await h.post('/api/tag/create', { input_dir: dir, analyzer: 'webui' });
      assert.equal(down.status, 503);
      assert.equal((await h.server.client.getTasks({ type: 'tag' })).pagination.total, 0);
      fake = await FakeWebuiTagger.start();
    },
  );

  test(
    'stop aborts the in-flight request; a re-run skips the captions already written',
    TIMEOUT,
    async () => {
      await fresh({ delayMs: 300 });
      const dir = join(h.images, 's');
      for (let i = 0; i < 12; i++)
        await writeImage(join(dir, `img${String(i).padStart(2, '0')}.png`), RED);
      const created = await h.tag({ input_dir: dir, analyzer: 'webui' });
      // Stop while a request is being answered: it must be aborted, not awaited.
      await eventually(
        () => readdirSync(dir).filter((n) => n.endsWith('.txt')).length >= 2 && fake.inFlight === 1,
        30_000,
        'two captions and a request in flight',
      );
      await h.server.client.stopTask(created.id);
      const stopped = await h.waitDone(created.id);
      assert.equal(stopped.task.status, 'cancelled');
      await eventually(() => fake.aborted >= 1, 5_000, 'the in-flight request to be aborted');
      const written = readdirSync(dir).filter((n) => n.endsWith('.txt')).length;
      assert.ok(written >= 2 && written < 12, `${written} captions`);
      const callsBefore = fake.calls.length;

      fake.delayMs = 0;
      await h.server.client.startTask(created.id);
      const resumed = await h.waitDone(created.id);
      assert.equal(resumed.task.status, 'completed');
      assert.equal(resumed.result.skipped_existing, written);
      assert.equal(resumed.result.tagged, 12 - written);
      assert.equal(fake.calls.length - callsBefore, 12 - written);
      assert.ok(existsSync(join(dir, 'img11.txt')));
    },
  );

  test('/api/tag/analyze with the webui analyzer', TIMEOUT, async () => {
    await fresh({ shape: 'nested' });
    const path = join(h.images, 'a', 'blue.png');
    await writeImage(path, BLUE);
    const answer = await h.post('/api/tag/analyze', {
      image: readFileSync(path).toString('base64'),
      analyzer: 'webui',
      exclude_tags: ['smile (happy)'],
    });
    assert.equal(answer.status, 200, answer.text);
    const data = answer.body!.data as {
      caption: string;
      rating: Record<string, number>;
      model: string;
    };
    assert.equal(data.caption, '1girl, blue eyes');
    assert.equal(data.rating.sensitive, 0.7);
    assert.equal(data.model, 'wd14-vit-v2-git');
  });
});
