import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseRetryAfter } from '../../../src/executors/crawl/pixiv-client.js';
import { FakePixiv, type RecordedRequest } from '../../fakes/pixiv.js';
import { waitForStatus } from '../../helpers/server.js';
import {
  TIMEOUT,
  addWorks,
  createCrawl,
  ids,
  logsOf,
  runCrawl,
  startCrawlServer,
  type CrawlServer,
} from './harness.js';

/** performance.now() in the fake and the timers of the client may disagree by a fraction of a ms. */
const CLOCK_SLACK_MS = 2;

/** Gaps between the end of each matching request and the start of the next matching one. */
function gapsBetween(requests: readonly RecordedRequest[]): number[] {
  return requests.slice(1).map((r, i) => r.start - requests[i]!.end);
}

describe('crawl: pacing and back-off', () => {
  let fake: FakePixiv;
  let s: CrawlServer;

  before(async () => {
    fake = await FakePixiv.start();
    // A 429 without Retry-After waits 150 ms, doubling; a 5xx 60 ms, doubling (FAST_TIMING).
    s = await startCrawlServer(fake);
  });
  after(async () => {
    await s.dispose();
    await fake.close();
  });

  test(
    'one request at a time, API and images alike, with at least `delay` between any two',
    TIMEOUT,
    async () => {
      const works = ids(5, 10_000_001);
      for (const id of works) await fake.addWork(id, { pageCount: 2 });
      fake.searches.set('paced', works);
      const mark = fake.requests.length;
      const { result } = await runCrawl(s, { crawl_type: 'tag', query: 'paced', delay: 0.05 });
      assert.equal(result.downloaded, 10);
      const requests = fake.requests.slice(mark);
      assert.ok(requests.length >= 1 + 5 * 2 + 10, 'search, details, page lists and images');
      assert.equal(fake.maxInFlight, 1, 'never two requests open at once');
      for (const [i, gap] of gapsBetween(requests).entries()) {
        assert.ok(gap >= 0, `request ${i + 1} started before request ${i} ended`);
        assert.ok(
          gap >= 50 - CLOCK_SLACK_MS,
          `gap ${gap.toFixed(1)} ms before ${requests[i + 1]!.path} is shorter than the delay`,
        );
      }
    },
  );

  test('Retry-After in seconds is honoured instead of the default 429 wait', TIMEOUT, async () => {
    const slow = await FakePixiv.start();
    // A default 429 wait far above Retry-After: a gap between the two proves which one was used.
    const server = await startCrawlServer(slow, { timing: { rateLimitWaitMs: 8_000 } });
    try {
      await slow.addWork('11000001');
      slow.fail({ path: /^\/ajax\/illust\/11000001\?/, status: 429, retryAfter: '1' });
      const { task, result } = await runCrawl(server, {
        crawl_type: 'illust',
        illust_id: '11000001',
        delay: 0.01,
      });
      assert.equal(result.downloaded, 1);
      const details = slow.apiRequests().filter((r) => r.path.startsWith('/ajax/illust/11000001?'));
      assert.deepEqual(
        details.map((r) => r.status),
        [429, 200],
      );
      const [gap] = gapsBetween(details);
      assert.ok(gap! >= 1000 - CLOCK_SLACK_MS, `waited ${gap} ms, Retry-After asked 1000`);
      assert.ok(gap! < 8_000, `waited ${gap} ms: the default wait was used, not Retry-After`);
      const logs = await logsOf(server, task.id);
      assert.ok(logs.some((l) => l.startsWith('warn') && l.includes('HTTP 429')));
    } finally {
      await server.dispose();
      await slow.close();
    }
  });

  test('Retry-After as an HTTP date is read as the time until then', () => {
    const now = Date.parse('2026-12-02T10:00:00Z');
    assert.equal(parseRetryAfter('Wed, 02 Dec 2026 10:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Wed, 02 Dec 2026 09:59:00 GMT', now), 0, 'a past date: now');
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter('soon', now), null);
    assert.equal(parseRetryAfter(null, now), null);
  });

  test('a 429 without Retry-After waits the rate-limit base, doubling', TIMEOUT, async () => {
    await fake.addWork('11100001');
    fake.fail({ path: /^\/ajax\/illust\/11100001\?/, status: 429, times: 2 });
    const { result } = await runCrawl(s, {
      crawl_type: 'illust',
      illust_id: '11100001',
      delay: 0.01,
    });
    assert.equal(result.downloaded, 1);
    const details = fake.apiRequests().filter((r) => r.path.startsWith('/ajax/illust/11100001?'));
    assert.deepEqual(
      details.map((r) => r.status),
      [429, 429, 200],
    );
    const gaps = gapsBetween(details);
    assert.ok(gaps[0]! >= 150 - CLOCK_SLACK_MS, `first wait ${gaps[0]} ms < 150`);
    assert.ok(gaps[1]! >= 300 - CLOCK_SLACK_MS, `second wait ${gaps[1]} ms < 300`);
  });

  test(
    'a 5xx is retried with exponential back-off from the server-error base',
    TIMEOUT,
    async () => {
      const work = await fake.addWork('11200001');
      const image = new RegExp(`/${work.id}_p0\\.png$`);
      fake.fail({ path: image, status: 503, times: 3 });
      const { result } = await runCrawl(s, {
        crawl_type: 'illust',
        illust_id: work.id,
        delay: 0.01,
      });
      assert.equal(result.downloaded, 1);
      assert.equal(result.failed, 0);
      const tries = fake.imageRequests().filter((r) => image.test(r.path));
      assert.deepEqual(
        tries.map((r) => r.status),
        [503, 503, 503, 200],
      );
      const gaps = gapsBetween(tries);
      for (const [i, gap] of gaps.entries()) {
        const rule = 60 * 2 ** i;
        assert.ok(gap >= rule - CLOCK_SLACK_MS, `wait ${i + 1} was ${gap.toFixed(1)} ms < ${rule}`);
      }
    },
  );

  test(
    'a request that keeps failing is counted as failed after its tries; the crawl goes on',
    TIMEOUT,
    async () => {
      await addWorks(fake, ['11300001', '11300002']);
      fake.searches.set('flaky', ['11300001', '11300002']);
      fake.fail({ path: /\/11300001_p0\.png$/, status: 500, times: 100 });
      const { task, result } = await runCrawl(s, {
        crawl_type: 'tag',
        query: 'flaky',
        delay: 0.005,
      });
      assert.equal(result.failed, 1);
      assert.equal(result.artworks, 1);
      assert.equal(result.downloaded, 1);
      assert.equal(
        fake.imageRequests().filter((r) => r.path.endsWith('/11300001_p0.png')).length,
        4,
        'maxTries (4) requests, no more',
      );
      const logs = await logsOf(s, task.id);
      assert.ok(logs.some((l) => l.includes('11300001') && l.includes('failed: p0')));
    },
  );

  test('a stop during a back-off wait ends the crawl at once', TIMEOUT, async () => {
    await fake.addWork('11400001');
    fake.fail({ path: /^\/ajax\/illust\/11400001\?/, status: 429, retryAfter: '120' });
    const created = await createCrawl(s, {
      crawl_type: 'illust',
      illust_id: '11400001',
      delay: 0.01,
    });
    await waitForStatus(s.client, created.id, ['running']);
    const deadline = Date.now() + 10_000;
    while (!fake.apiRequests().some((r) => r.path.startsWith('/ajax/illust/11400001?'))) {
      if (Date.now() > deadline) throw new Error('the crawl never asked for the artwork');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const started = performance.now();
    const stopped = await s.client.stopTask(created.id);
    const took = performance.now() - started;
    assert.equal(stopped.status, 'cancelled');
    // The grace period is 2 s: returning well within it shows the wait itself was aborted.
    assert.ok(took < 1_000, `stop took ${took.toFixed(0)} ms`);
    const logs = await logsOf(s, created.id);
    assert.ok(
      logs.some((l) => l.includes('stopped;')),
      'the executor itself returned and said so (a line after the grace period would be dropped)',
    );
  });
});
