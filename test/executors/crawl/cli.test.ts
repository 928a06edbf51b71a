import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';
import type { Task } from '../../../src/domain/task.js';
import { FakePixiv } from '../../fakes/pixiv.js';
import { startCrawlServer } from './harness.js';

// Each command starts a fresh tsx process: seconds apiece on a busy machine.
const TIMEOUT = { timeout: 180_000 };

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));

async function tailor(url: string, ...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [
      '--import',
      'tsx',
      CLI,
      '--url',
      url,
      ...args,
    ]);
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

test(
  'tailor crawl tag/user/illust/ranking queue crawls with their options; --watch exits with the outcome',
  TIMEOUT,
  async () => {
    const fake = await FakePixiv.start();
    const s = await startCrawlServer(fake);
    try {
      await fake.addWork('50000001');
      fake.searches.set('風景 夕焼け', ['50000001']);

      const tag = await tailor(
        s.url,
        '--json',
        'crawl',
        'tag',
        '風景',
        '夕焼け',
        '--limit',
        '70',
        '--order',
        'popular_d',
        '--delay',
        '0.01',
        '--no-manga',
        '--watch',
      );
      assert.equal(tag.code, 0, tag.stderr);
      const task = JSON.parse(tag.stdout.slice(0, tag.stdout.indexOf('\n}') + 2)) as Task;
      assert.equal(task.config.query, '風景 夕焼け');
      assert.equal(task.config.limit, 70);
      assert.equal(task.config.order, 'popular_d');
      assert.equal(task.config.include_manga, false);
      assert.equal((await s.client.getTask(task.id)).status, 'completed');

      const failed = await tailor(s.url, 'crawl', 'user', '404404', '--delay', '0', '--watch');
      assert.equal(failed.code, 1, 'a failed crawl exits 1');

      const illust = await tailor(
        s.url,
        '--json',
        'crawl',
        'illust',
        '50000001',
        '--ugoira',
        'gif',
      );
      assert.equal(illust.code, 0, illust.stderr);
      assert.equal((JSON.parse(illust.stdout) as Task).config.ugoira, 'gif');

      const ranking = await tailor(
        s.url,
        '--json',
        'crawl',
        'ranking',
        '--mode',
        'weekly',
        '--date',
        '2026-11-30',
        '--priority',
        '3',
      );
      assert.equal(ranking.code, 0, ranking.stderr);
      const ranked = JSON.parse(ranking.stdout) as Task;
      assert.equal(ranked.config.ranking_mode, 'weekly');
      assert.equal(ranked.config.date, '20261130');
      assert.equal(ranked.priority, 3);

      const bad = await tailor(s.url, 'crawl', 'tag', 'x', '--order', 'sideways');
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /date_d/);
    } finally {
      await s.dispose();
      await fake.close();
    }
  },
);
