import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ServerMessage } from '../../../src/client/index.js';
import { ErrorCode } from '../../../src/domain/errors.js';
import { FakePixiv } from '../../fakes/pixiv.js';
import {
  eventually,
  rawPost,
  tempDir,
  waitForStatus,
  type TestServer,
} from '../../helpers/server.js';
import {
  COOKIE,
  TIMEOUT,
  addWorks,
  createCrawl,
  filesIn,
  ids,
  logsOf,
  runCrawl,
  startCrawlServer,
  type CrawlServer,
} from './harness.js';

/** Every file under `dir`, recursively, as text. */
function allText(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => readFileSync(join(entry.parentPath, entry.name)).toString('latin1'))
    .join('\n');
}

async function post(s: TestServer, path: string, body: unknown) {
  return rawPost(s.url, path, JSON.stringify(body));
}

/** A forwarding HTTP proxy (CONNECT tunnels and absolute-form requests) that records its targets. */
async function startProxy() {
  const targets: string[] = [];
  const credentials: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    targets.push(req.url ?? '');
    credentials.push(req.headers['proxy-authorization']);
    const upstream = httpRequest(
      new URL(req.url ?? ''),
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connect', (req, socket, head) => {
    targets.push(req.url ?? '');
    credentials.push(req.headers['proxy-authorization']);
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host ?? '127.0.0.1', () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    targets,
    credentials,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const fieldsOf = (reply: Awaited<ReturnType<typeof post>>): string[] =>
  ((reply.body?.status.details as { fields?: { path: string }[] } | undefined)?.fields ?? []).map(
    (f) => f.path,
  );

describe('crawl: stop and resume', () => {
  let fake: FakePixiv;
  let s: CrawlServer;

  before(async () => {
    // Each image arrives in 8 chunks 50 ms apart: long enough to stop one half-way.
    fake = await FakePixiv.start({ imageChunks: 8, imageChunkDelayMs: 50 });
    s = await startCrawlServer(fake);
  });
  after(async () => {
    await s.dispose();
    await fake.close();
  });

  test(
    'a stopped crawl leaves no partial file, keeps finished ones, and a re-run downloads nothing twice',
    TIMEOUT,
    async () => {
      const works = ids(6, 20_000_001);
      await addWorks(fake, works);
      fake.searches.set('resumable', works);
      const created = await createCrawl(s, {
        crawl_type: 'tag',
        query: 'resumable',
        delay: 0.01,
      });
      // Stop while the third image is half-way through.
      await eventually(
        () => {
          const images = fake.imageRequests();
          return images.length === 3 && images[2]!.end === 0 && images[2]!.start > 0;
        },
        20_000,
        'the third image download to be under way',
      );
      await new Promise((resolve) => setTimeout(resolve, 40));
      const stopped = await s.client.stopTask(created.id);
      assert.equal(stopped.status, 'cancelled');
      const firstRun = fake.imageRequests();
      const finished = firstRun.filter((r) => r.completed);
      assert.equal(finished.length, 2, 'two images were complete before the stop');
      assert.equal(firstRun[2]!.completed, false, 'the third was cut off by the stop');

      const dir = join(s.dataDir, 'outputs', created.id);
      const files = filesIn(dir);
      assert.deepEqual(
        files.filter((f) => f.endsWith('.part')),
        [],
        'no temporary file is left',
      );
      assert.deepEqual(
        files.filter((f) => f.endsWith('.png')),
        [`${works[0]}_p0.png`, `${works[1]}_p0.png`],
        'finished files stay; the interrupted one is not there under its name',
      );
      for (const id of works.slice(0, 2)) {
        const served = fake.works.get(id)!.pages[0]!;
        assert.ok(readFileSync(join(dir, `${id}_p0.png`)).equals(served));
      }

      const mark = fake.requests.length;
      await s.client.startTask(created.id);
      const done = await waitForStatus(s.client, created.id, ['completed', 'failed', 'cancelled']);
      assert.equal(done.status, 'completed');
      const secondRun = fake.requests.slice(mark);
      for (const request of finished) {
        assert.ok(
          !secondRun.some((r) => r.path === request.path),
          `${request.path} was downloaded again`,
        );
      }
      assert.deepEqual(
        secondRun
          .map((r) => /^\/ajax\/illust\/(\d+)\?/.exec(r.path)?.[1])
          .filter((id) => id !== undefined),
        works.slice(2),
        'complete works (sidecar + files) need no request at all',
      );
      const result = done.result as { downloaded: number; skipped_existing: number };
      assert.equal(result.downloaded, 4);
      assert.equal(result.skipped_existing, 2);
      assert.equal(filesIn(dir).filter((f) => f.endsWith('.png')).length, 6);
    },
  );

  test(
    'a later crawl into the same output_dir skips the files already there',
    TIMEOUT,
    async () => {
      const first = ids(3, 21_000_001);
      const more = ids(2, 21_000_004);
      await addWorks(fake, [...first, ...more]);
      fake.searches.set('dataset-a', first);
      fake.searches.set('dataset-b', [...first, ...more]);
      fake.options.imageChunks = 1;
      try {
        const a = await runCrawl(s, {
          crawl_type: 'tag',
          query: 'dataset-a',
          output_dir: 'datasets/scenery',
          delay: 0.002,
        });
        assert.equal(a.result.output_dir, join(s.dataDir, 'datasets', 'scenery'));
        const mark = fake.requests.length;
        const b = await runCrawl(s, {
          crawl_type: 'tag',
          query: 'dataset-b',
          output_dir: 'datasets/scenery',
          delay: 0.002,
        });
        assert.equal(b.result.skipped_existing, 3);
        assert.equal(b.result.downloaded, 2);
        const images = fake.requests
          .slice(mark)
          .filter((r) => r.host === 'image')
          .map((r) => r.path);
        assert.equal(images.length, 2);
        assert.ok(images.every((path) => more.some((id) => path.includes(`/${id}_p0`))));
        assert.equal(filesIn(b.result.output_dir).filter((f) => f.endsWith('.png')).length, 5);
      } finally {
        fake.options.imageChunks = 8;
      }
    },
  );
});

describe('crawl: the cookie', () => {
  let fake: FakePixiv;
  let s: CrawlServer;
  const OWN = 'PHPSESSID=99999999_OwnTaskSecret';

  before(async () => {
    fake = await FakePixiv.start({ sessionCookie: COOKIE });
    s = await startCrawlServer(fake);
  });
  after(async () => {
    await s.dispose();
    await fake.close();
  });

  test(
    'the cookie goes to the API only, and no response, log, event or file ever shows it',
    TIMEOUT,
    async () => {
      const feed = await s.client.connect();
      const messages: ServerMessage[] = [];
      feed.onMessage((m) => messages.push(m));
      feed.subscribeAll();
      try {
        await fake.addWork('30000001', { xRestrict: 1, pageCount: 2 });
        await fake.addWork('30000002');
        fake.searches.set('session', ['30000001', '30000002']);
        // Pixiv echoing the session into an error must not carry it into our log.
        fake.fail({
          path: /^\/ajax\/illust\/30000002\?/,
          body: { error: true, message: `invalid session ${COOKIE}`, body: [] },
        });
        const withDefault = await runCrawl(s, {
          crawl_type: 'tag',
          query: 'session',
          cookie: 'default',
          delay: 0.002,
        });
        assert.equal(withDefault.result.downloaded, 2, 'the R-18 work was visible to the session');
        assert.equal(withDefault.result.failed, 1);

        const own = await runCrawl(s, {
          crawl_type: 'illust',
          illust_id: '30000002',
          cookie: OWN,
          delay: 0.002,
        });
        assert.equal(own.task.config.cookie, '[redacted]');

        const api = fake.apiRequests();
        assert.ok(api.length > 0);
        assert.ok(
          api.every((r) => r.headers.cookie === COOKIE || r.headers.cookie === OWN),
          'every API request carried the session',
        );
        assert.ok(
          api.some((r) => r.headers.cookie === OWN),
          'a task’s own cookie replaces it',
        );
        const images = fake.imageRequests();
        assert.ok(images.length > 0);
        assert.ok(
          images.every((r) => r.headers.cookie === undefined),
          'the image host never gets the cookie',
        );
        assert.ok(images.every((r) => r.headers.referer === 'https://www.pixiv.net/'));

        const outputs: string[] = [];
        for (const { task } of [withDefault, own]) {
          outputs.push(JSON.stringify(await s.client.getTask(task.id)));
          outputs.push(JSON.stringify(await logsOf(s, task.id)));
          outputs.push(
            JSON.stringify(await s.client.call(`/api/crawl/${task.id}/works`, undefined, 'GET')),
          );
          outputs.push(allText(join(s.dataDir, 'outputs', task.id)));
        }
        outputs.push(JSON.stringify(await s.client.getTasks({ page_size: 100 })));
        const created = await createCrawl(s, {
          crawl_type: 'illust',
          illust_id: '30000002',
          cookie: OWN,
          delay: 0.002,
        });
        outputs.push(JSON.stringify(created));
        await waitForStatus(s.client, created.id, ['completed', 'failed']);
        await eventually(() =>
          messages.some(
            (m) => m.type === 'task_status' && m.task_id === created.id && m.status === 'completed',
          ),
        );
        outputs.push(JSON.stringify(messages));
        const logs = await logsOf(s, withDefault.task.id);
        assert.ok(
          logs.some((l) => l.includes('invalid session [redacted]')),
          'the echoed session was scrubbed, not dropped',
        );
        const everything = outputs.join('\n');
        for (const secret of [COOKIE, '12345678_SeCrEtSeSsIoN', OWN, '99999999_OwnTaskSecret'])
          assert.ok(!everything.includes(secret), `${secret} leaked`);
      } finally {
        feed.close();
      }
    },
  );

  test(
    'a task’s proxy_url carries all of its requests, and its password is redacted',
    TIMEOUT,
    async () => {
      const proxy = await startProxy();
      try {
        await fake.addWork('31000001');
        const { task, result } = await runCrawl(s, {
          crawl_type: 'illust',
          illust_id: '31000001',
          proxy_url: `http://crawler:proxy-pass-5150@127.0.0.1:${proxy.port}`,
          delay: 0.002,
        });
        assert.equal(result.downloaded, 1);
        const api = new URL(fake.url).host;
        const images = new URL(fake.imageUrl).host;
        const through = proxy.targets.map((t) => (t.includes('://') ? new URL(t).host : t));
        assert.ok(through.includes(api), `the API went through the proxy: ${through.join(', ')}`);
        assert.ok(through.includes(images), 'the image host went through the proxy');
        assert.ok(
          proxy.credentials.every(
            (c) => c === `Basic ${Buffer.from('crawler:proxy-pass-5150').toString('base64')}`,
          ),
          'the proxy got its credentials',
        );
        const shown = JSON.stringify(await s.client.getTask(task.id));
        assert.ok(!shown.includes('proxy-pass-5150'));
        assert.ok(shown.includes('crawler:[redacted]@127.0.0.1'));
      } finally {
        await proxy.close();
      }
    },
  );
});

describe('crawl: what a create accepts', () => {
  let fake: FakePixiv;
  let s: CrawlServer;
  let outside: string;

  before(async () => {
    fake = await FakePixiv.start();
    s = await startCrawlServer(fake);
    outside = tempDir('crawl-outside-');
  });
  after(async () => {
    await s.dispose();
    await fake.close();
    rmSync(outside, { recursive: true, force: true });
  });

  test(
    'each crawl type names its own missing field in a 400, on both create routes',
    TIMEOUT,
    async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ crawl_type: 'tag' }, '/config/query'],
        [{ crawl_type: 'tag', query: ' , ' }, '/config/query'],
        [{ crawl_type: 'user' }, '/config/user_id'],
        [{ type: 'illust' }, '/config/illust_id'],
      ];
      for (const [config, path] of cases) {
        for (const reply of [
          await post(s, '/api/crawl/create', config),
          await post(s, '/api/task/create', { type: 'crawl', config }),
        ]) {
          assert.equal(reply.status, 400, JSON.stringify(config));
          assert.equal(reply.body?.status.code, ErrorCode.VALIDATION);
          assert.deepEqual(fieldsOf(reply), [path]);
          assert.ok(reply.body?.status.message.includes(path));
        }
      }
      const unknown = await post(s, '/api/crawl/create', { crawl_type: 'novel', query: 'x' });
      assert.equal(unknown.status, 400);
      assert.deepEqual(fieldsOf(unknown), ['/config/crawl_type']);
      assert.match(unknown.body?.status.message ?? '', /tag, user, illust, ranking/);

      const badId = await post(s, '/api/task/create', {
        type: 'crawl',
        config: { crawl_type: 'user', user_id: 'abc' },
      });
      assert.equal(badId.status, 400);
      assert.deepEqual(fieldsOf(badId), ['/config/user_id']);

      const unknownField = await post(s, '/api/crawl/create', {
        crawl_type: 'illust',
        illust_id: '1',
        colour: 'red',
      });
      assert.equal(unknownField.status, 400);
      assert.equal((await s.client.getTasks()).pagination.total, 0, 'nothing was queued');
    },
  );

  test(
    'the original front-end’s spellings are normalised into the stored config',
    TIMEOUT,
    async () => {
      const task = await createCrawl(s, {
        type: 'ranking',
        mode: 'monthly',
        date: '2026-11-01',
        priority: 5,
      });
      assert.equal(task.priority, 5);
      assert.equal(task.config.crawl_type, 'ranking');
      assert.equal(task.config.ranking_mode, 'monthly');
      assert.equal(task.config.date, '20261101');
      assert.equal(task.config.type, undefined);
      await s.client.cancelTask(task.id).catch(() => undefined);
      await waitForStatus(s.client, task.id, ['cancelled', 'failed', 'completed']);

      const tagged = await createCrawl(s, { type: 'tag', query: ' 風景，夕焼け　海、 sky,night ' });
      assert.equal(
        tagged.config.query,
        '風景 夕焼け 海 sky night',
        'one AND search, single spaces',
      );
      await waitForStatus(s.client, tagged.id, ['cancelled', 'failed', 'completed']);
      const viaGeneric = await s.client.createTask('crawl', { type: 'user', user_id: 123 });
      assert.equal(viaGeneric.config.crawl_type, 'user');
      assert.equal(viaGeneric.config.user_id, '123');
      await waitForStatus(s.client, viaGeneric.id, ['cancelled', 'failed', 'completed']);
    },
  );

  test(
    'an output_dir outside the allowed roots is a 403 before any task exists',
    TIMEOUT,
    async () => {
      const link = join(s.dataDir, 'escape');
      symlinkSync(outside, link);
      try {
        for (const outputDir of [outside, '../somewhere-else', 'escape', 'escape/deeper']) {
          for (const reply of [
            await post(s, '/api/crawl/create', {
              crawl_type: 'illust',
              illust_id: '1',
              output_dir: outputDir,
            }),
            await post(s, '/api/task/create', {
              type: 'crawl',
              config: { crawl_type: 'illust', illust_id: '1', output_dir: outputDir },
            }),
          ]) {
            assert.equal(reply.status, 403, outputDir);
            assert.equal(reply.body?.status.code, ErrorCode.FORBIDDEN_PATH);
          }
        }
      } finally {
        unlinkSync(link);
      }
      assert.deepEqual(readdirSync(outside), []);
    },
  );

  test(
    'output_dir is confined again when the crawl runs: a symlink re-pointed outside meanwhile fails it',
    TIMEOUT,
    async () => {
      await fake.addWork('40000001');
      const inside = join(s.dataDir, 'datasets', 'target');
      mkdirSync(inside, { recursive: true });
      const link = join(s.dataDir, 'swap');
      symlinkSync(inside, link);
      // Hold the lane with a crawl that waits on a long Retry-After, queue the second behind it.
      fake.fail({ path: /^\/ajax\/illust\/40000001\?/, status: 429, retryAfter: '120' });
      const blocker = await createCrawl(s, { crawl_type: 'illust', illust_id: '40000001' });
      await waitForStatus(s.client, blocker.id, ['running']);
      const queued = await createCrawl(s, {
        crawl_type: 'illust',
        illust_id: '40000001',
        output_dir: 'swap',
        delay: 0.002,
      });
      unlinkSync(link);
      symlinkSync(outside, link);
      try {
        await s.client.stopTask(blocker.id);
        const done = await waitForStatus(s.client, queued.id, ['completed', 'failed']);
        assert.equal(done.status, 'failed');
        assert.match(done.error_message ?? '', /output_dir.*outside the allowed folders/);
        assert.deepEqual(readdirSync(outside), [], 'nothing was written outside');
      } finally {
        unlinkSync(link);
      }
    },
  );

  test('the create route is documented in /openapi.json under the crawl tag', TIMEOUT, async () => {
    const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { tags?: string[]; requestBody?: unknown }>>;
    };
    const create = doc.paths['/api/crawl/create']?.post;
    assert.ok(create, 'POST /api/crawl/create is documented');
    assert.deepEqual(create.tags, ['crawl']);
    const body = JSON.stringify(create.requestBody);
    for (const field of ['crawl_type', 'query', 'user_id', 'illust_id', 'max_images', 'ugoira'])
      assert.ok(body.includes(field), `${field} is documented`);
    assert.ok(doc.paths['/api/crawl/{task_id}/works']?.get, 'the works listing is documented');
  });
});
