import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import type { Sidecar } from '../../../src/executors/crawl/sidecar.js';
import { FakePixiv } from '../../fakes/pixiv.js';
import {
  TIMEOUT,
  addWorks,
  filesIn,
  ids,
  logsOf,
  runCrawl,
  startCrawlServer,
  type CrawlServer,
} from './harness.js';

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

describe('crawl: what gets downloaded', () => {
  let fake: FakePixiv;
  let s: CrawlServer;

  before(async () => {
    fake = await FakePixiv.start();
    s = await startCrawlServer(fake);
  });
  after(async () => {
    await s.dispose();
    await fake.close();
  });

  test(
    'a tag crawl follows search pages until limit artworks, skipping ads, and stops asking then',
    TIMEOUT,
    async () => {
      const found = ids(130, 2_000_001);
      await addWorks(fake, found);
      fake.searches.set('風景 夕焼け', found);
      const before = fake.requests.length;
      const { task, result } = await runCrawl(s, {
        crawl_type: 'tag',
        query: '風景, 夕焼け',
        limit: 65,
        delay: 0.002,
      });
      assert.equal(task.config.query, '風景 夕焼け', 'comma-separated tags are one AND search');
      const searches = fake
        .apiRequests()
        .slice(before)
        .filter((r) => r.path.startsWith('/ajax/search/artworks/'));
      assert.deepEqual(
        searches.map((r) => new URL(r.path, fake.url).searchParams.get('p')),
        ['1', '2'],
        'page 3 is never asked for',
      );
      const params = new URL(searches[0]!.path, fake.url).searchParams;
      assert.equal(params.get('word'), '風景 夕焼け');
      assert.equal(params.get('order'), 'date_d');
      assert.equal(params.get('s_mode'), 's_tag');
      assert.equal(params.get('type'), 'all');
      assert.deepEqual(
        fake.detailIds().filter((id) => found.includes(id)),
        found.slice(0, 65),
        'the ads among the results are not artworks',
      );
      assert.equal(result.found, 65);
      assert.equal(result.artworks, 65);
      assert.equal(result.downloaded, 65);
      assert.equal(result.stopped_by, 'limit');
      const dir = task.result && result.output_dir;
      assert.ok(dir);
      const images = filesIn(dir).filter((f) => f.endsWith('.png'));
      assert.equal(images.length, 65);
      assert.equal(task.progress, 100);
      const seen = s.progress.get(task.id) ?? [];
      assert.ok(seen.length > 2, 'progress was reported along the way');
      for (let i = 1; i < seen.length; i++)
        assert.ok(seen[i]! >= seen[i - 1]!, `progress never decreases: ${seen.join(',')}`);
    },
  );

  test(
    'downloaded files hold exactly the bytes served, and the sidecar describes the work',
    TIMEOUT,
    async () => {
      const work = await fake.addWork(3_000_001, {
        pageCount: 3,
        title: '夕方の海',
        tags: [{ tag: '海', en: 'sea' }, { tag: 'オリジナル' }],
        bookmarkCount: 321,
        likeCount: 45,
        viewCount: 6789,
        userId: '777',
        userName: 'umi',
      });
      const { task, result } = await runCrawl(s, {
        type: 'illust',
        illust_id: 3_000_001,
        delay: 0.002,
      });
      assert.equal(task.config.crawl_type, 'illust', '`type` is an alias of crawl_type');
      assert.equal(task.config.illust_id, '3000001', 'a numeric id is stored as digits');
      const dir = result.output_dir;
      assert.deepEqual(filesIn(dir), [
        '3000001.json',
        '3000001_p0.png',
        '3000001_p1.jpg',
        '3000001_p2.jpg',
      ]);
      for (const [page, ext] of work.exts.entries()) {
        const saved = readFileSync(join(dir, `3000001_p${page}.${ext}`));
        assert.ok(saved.equals(work.pages[page]!), `page ${page} is byte-identical`);
      }
      const sidecar = readJson<Sidecar>(join(dir, '3000001.json'));
      assert.equal(sidecar.id, '3000001');
      assert.equal(sidecar.title, '夕方の海');
      assert.deepEqual(sidecar.tags, [
        { tag: '海', translation: 'sea' },
        { tag: 'オリジナル', translation: null },
      ]);
      assert.deepEqual(sidecar.author, { id: '777', name: 'umi' });
      assert.equal(sidecar.bookmarks, 321);
      assert.equal(sidecar.likes, 45);
      assert.equal(sidecar.views, 6789);
      assert.equal(sidecar.created_at, work.createDate);
      assert.equal(sidecar.page_count, 3);
      assert.deepEqual(
        sidecar.pages.map((p) => [p.page, p.url, p.file]),
        [0, 1, 2].map((page) => [
          page,
          fake.originalUrl(work, page),
          `3000001_p${page}.${work.exts[page]}`,
        ]),
      );
      assert.equal(sidecar.complete, true);
      assert.equal(sidecar.restriction, 'all-ages');
      assert.equal(sidecar.ai_type, 1);
      assert.deepEqual(sidecar.found_by, { crawl_type: 'illust', illust_id: '3000001' });
      assert.equal(sidecar.task_id, task.id);
      const logs = await logsOf(s, task.id);
      assert.ok(
        logs.some((l) => l.includes('3000001 "夕方の海"') && l.includes('3000001_p2.jpg')),
        'one log line names the artwork, its title and its files',
      );
    },
  );

  test(
    'a user crawl takes the newest works first, manga included by default',
    TIMEOUT,
    async () => {
      await addWorks(fake, ['999', '1000', '4000001', '4000010']);
      await fake.addWork('4000005', { illustType: 1 });
      fake.users.set('42', { illusts: ['999', '4000001', '1000', '4000010'], manga: ['4000005'] });
      const mark = fake.detailIds().length;
      const { result } = await runCrawl(s, { crawl_type: 'user', user_id: '42', delay: 0.002 });
      assert.deepEqual(fake.detailIds().slice(mark), [
        '4000010',
        '4000005',
        '4000001',
        '1000',
        '999',
      ]);
      assert.equal(result.artworks, 5);

      const again = fake.detailIds().length;
      await runCrawl(s, { crawl_type: 'user', user_id: 42, include_manga: false, delay: 0.002 });
      assert.deepEqual(
        fake.detailIds().slice(again),
        ['4000010', '4000001', '1000', '999'],
        'with include_manga off the manga is not even looked up',
      );
    },
  );

  test('a user with no manga (served as []) is crawled like any other', TIMEOUT, async () => {
    await addWorks(fake, ['4100001', '4100002']);
    fake.users.set('43', { illusts: ['4100001', '4100002'], manga: [] });
    const { result } = await runCrawl(s, { crawl_type: 'user', user_id: '43', delay: 0.002 });
    assert.equal(result.artworks, 2);
    assert.equal(result.downloaded, 2);
  });

  test(
    'filters: min_bookmarks, exclude_ai (aiType 2 or an AI tag) and include_manga leave works out',
    TIMEOUT,
    async () => {
      await fake.addWork('5000001', { bookmarkCount: 10 });
      await fake.addWork('5000002', { bookmarkCount: 500, aiType: 2 });
      await fake.addWork('5000003', { bookmarkCount: 500, tags: [{ tag: 'AI生成' }] });
      await fake.addWork('5000004', { bookmarkCount: 500, tags: [{ tag: 'AIイラスト' }] });
      await fake.addWork('5000005', { bookmarkCount: 500, illustType: 1 });
      await fake.addWork('5000006', { bookmarkCount: 500 });
      fake.searches.set('filtered', [
        '5000001',
        '5000002',
        '5000003',
        '5000004',
        '5000005',
        '5000006',
      ]);
      const mark = fake.detailIds().length;
      const { task, result } = await runCrawl(s, {
        crawl_type: 'tag',
        query: 'filtered',
        min_bookmarks: 100,
        exclude_ai: true,
        include_manga: false,
        delay: 0.002,
      });
      assert.equal(result.artworks, 1);
      assert.equal(result.filtered, 5);
      assert.deepEqual(filesIn(result.output_dir), ['5000006.json', '5000006_p0.png']);
      assert.deepEqual(
        fake.detailIds().slice(mark),
        ['5000001', '5000006'],
        'what the search listing already tells (AI, manga) costs no detail request',
      );
      const logs = await logsOf(s, task.id);
      assert.ok(logs.some((l) => l.includes('5000001') && l.includes('min_bookmarks')));
      assert.ok(logs.some((l) => l.includes('5000003') && l.includes('AI生成')));
    },
  );

  test('max_images caps the files, even in the middle of a multi-page work', TIMEOUT, async () => {
    await fake.addWork('6000001', { pageCount: 2 });
    await fake.addWork('6000002', { pageCount: 2 });
    await fake.addWork('6000003', { pageCount: 2 });
    fake.searches.set('capped', ['6000001', '6000002', '6000003']);
    const { result } = await runCrawl(s, {
      crawl_type: 'tag',
      query: 'capped',
      max_images: 3,
      delay: 0.002,
    });
    assert.equal(result.downloaded, 3);
    assert.equal(result.stopped_by, 'max_images');
    const files = filesIn(result.output_dir);
    assert.deepEqual(
      files.filter((f) => !f.endsWith('.json')),
      ['6000001_p0.png', '6000001_p1.jpg', '6000002_p0.png'],
    );
    assert.ok(!files.includes('6000003.json'), 'the third work is never started');
    const partial = readJson<Sidecar>(join(result.output_dir, '6000002.json'));
    assert.equal(partial.complete, false);
    assert.deepEqual(
      partial.pages.map((p) => p.file),
      ['6000002_p0.png', null],
    );
  });

  test(
    'deleted works (404) and R-18 works without a session (null URLs) are skipped and counted',
    TIMEOUT,
    async () => {
      await fake.addWork('7000001', { deleted: true });
      await fake.addWork('7000002', { xRestrict: 1 });
      await fake.addWork('7000003');
      fake.searches.set('mixed', ['7000001', '7000002', '7000003']);
      const { task, result } = await runCrawl(s, {
        crawl_type: 'tag',
        query: 'mixed',
        delay: 0.002,
      });
      assert.equal(result.unavailable, 2);
      assert.equal(result.artworks, 1);
      assert.equal(result.failed, 0);
      const logs = await logsOf(s, task.id);
      assert.ok(logs.some((l) => l.includes('7000001') && l.includes('deleted or restricted')));
      assert.ok(logs.some((l) => l.includes('7000002') && l.includes('R-18')));
    },
  );

  test('a ranking crawl follows its pages and passes mode, content and date', TIMEOUT, async () => {
    const ranked = ids(60, 8_000_001);
    await addWorks(fake, ranked);
    fake.rankings.set('weekly|illust|20261130', ranked);
    const mark = fake.apiRequests().length;
    const { result } = await runCrawl(s, {
      crawl_type: 'ranking',
      mode: 'weekly',
      content: 'illust',
      date: '2026-11-30',
      limit: 55,
      delay: 0.001,
    });
    assert.equal(result.artworks, 55);
    const pages = fake
      .apiRequests()
      .slice(mark)
      .filter((r) => r.path.startsWith('/ranking.php'))
      .map((r) => new URL(r.path, fake.url).searchParams);
    assert.deepEqual(
      pages.map((p) => [p.get('mode'), p.get('content'), p.get('date'), p.get('p')]),
      [
        ['weekly', 'illust', '20261130', '1'],
        ['weekly', 'illust', '20261130', '2'],
      ],
    );
  });

  test(
    'an ugoira is saved as its zip and frame delays, and as an animation with those delays; a later run adds another format without downloading the zip again',
    TIMEOUT,
    async () => {
      const frames = [
        { file: '000000.jpg', delay: 100 },
        { file: '000001.jpg', delay: 250 },
        { file: '000002.jpg', delay: 40 },
        { file: '000003.jpg', delay: 1000 },
      ];
      const work = await fake.addWork('9000001', { illustType: 2, frames });
      const built: string[] = [];
      for (const format of ['webp', 'gif'] as const) {
        const { result } = await runCrawl(s, {
          crawl_type: 'illust',
          illust_id: '9000001',
          ugoira: format,
          output_dir: 'ugoira-set',
          delay: 0.002,
        });
        built.push(`9000001_ugoira.${format}`);
        const dir = result.output_dir;
        assert.deepEqual(
          filesIn(dir),
          ['9000001.json', '9000001_ugoira.json', '9000001_ugoira.zip', ...built].sort(),
        );
        assert.equal(
          fake.imageRequests().filter((r) => r.path.endsWith('/9000001_ugoira1920x1080.zip'))
            .length,
          1,
          'the zip is downloaded once',
        );
        assert.equal(result.downloaded + result.skipped_existing, 1);
        assert.ok(readFileSync(join(dir, '9000001_ugoira.zip')).equals(work.pages[0]!));
        const delays = readJson<{ frames: typeof frames }>(join(dir, '9000001_ugoira.json'));
        assert.deepEqual(delays.frames, frames);
        const meta = await sharp(join(dir, `9000001_ugoira.${format}`), {
          animated: true,
        }).metadata();
        assert.equal(meta.format, format);
        assert.equal(meta.pages, 4);
        assert.deepEqual(
          meta.delay,
          frames.map((f) => f.delay),
        );
        const sidecar = readJson<Sidecar>(join(dir, '9000001.json'));
        assert.equal(sidecar.type, 'ugoira');
        assert.deepEqual(sidecar.ugoira?.frames, frames);
        assert.equal(sidecar.ugoira?.animation, `9000001_ugoira.${format}`);
        assert.equal(result.animations, 1);
      }
    },
  );

  test(
    'an artwork answered with {"error": true} counts as failed and the crawl goes on',
    TIMEOUT,
    async () => {
      await addWorks(fake, ['9100001', '9100002']);
      fake.searches.set('erratic', ['9100001', '9100002']);
      fake.fail({
        path: /^\/ajax\/illust\/9100001\?/,
        body: { error: true, message: 'Something went wrong', body: [] },
      });
      const { task, result } = await runCrawl(s, {
        crawl_type: 'tag',
        query: 'erratic',
        delay: 0.002,
      });
      assert.equal(result.failed, 1);
      assert.equal(result.artworks, 1);
      const logs = await logsOf(s, task.id);
      assert.ok(logs.some((l) => l.includes('9100001') && l.includes('Something went wrong')));
    },
  );

  test('a listing Pixiv refuses fails the task with Pixiv’s message', TIMEOUT, async () => {
    const { task } = await runCrawl(
      s,
      { crawl_type: 'user', user_id: '404404', delay: 0.002 },
      'failed',
    );
    assert.match(task.error_message ?? '', /User not found/);
  });

  test(
    'GET /api/crawl/:task_id/works lists the sidecars of the task’s folder',
    TIMEOUT,
    async () => {
      await addWorks(fake, ['9200001', '9200002']);
      fake.searches.set('listed', ['9200001', '9200002']);
      const { task } = await runCrawl(s, { crawl_type: 'tag', query: 'listed', delay: 0.002 });
      const data = await s.client.call<{
        works: { id: string; title: string; files: string[] }[];
        pagination: { total: number };
      }>(`/api/crawl/${task.id}/works`, undefined, 'GET');
      assert.equal(data.pagination.total, 2);
      assert.deepEqual(
        data.works.map((w) => [w.id, w.title, w.files]),
        [
          ['9200002', 'work 9200002', ['9200002_p0.png']],
          ['9200001', 'work 9200001', ['9200001_p0.png']],
        ],
      );
    },
  );
});
