import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import type { Task } from '../../../src/domain/task.js';
import { createCrawlModule } from '../../../src/executors/crawl/module.js';
import type { CrawlResult } from '../../../src/executors/crawl/crawl.js';
import type { CrawlTiming } from '../../../src/executors/crawl/pixiv-client.js';
import type { FakePixiv } from '../../fakes/pixiv.js';
import { startTestServer, waitForStatus, type TestServer } from '../../helpers/server.js';

export const COOKIE = 'PHPSESSID=12345678_SeCrEtSeSsIoN; p_ab_id=7';
export const TIMEOUT = { timeout: 60_000 };

/** Back-off constants small enough for tests, large enough to measure. */
export const FAST_TIMING: Partial<CrawlTiming> = {
  rateLimitWaitMs: 150,
  serverErrorWaitMs: 60,
  maxTries: 4,
  requestTimeoutMs: 10_000,
};

export interface CrawlServer extends TestServer {
  /** Progress values of every status event, per task, in publication order. */
  progress: Map<string, number[]>;
}

export async function startCrawlServer(
  fake: FakePixiv,
  options: {
    timing?: Partial<CrawlTiming>;
    cookie?: string | null;
    dataDir?: string;
    imageRoots?: string[];
  } = {},
): Promise<CrawlServer> {
  const cookie = options.cookie === undefined ? COOKIE : options.cookie;
  const server = await startTestServer({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    config: {
      pixivApiBase: fake.url,
      ...(cookie !== null ? { pixivCookie: cookie } : {}),
      ...(options.imageRoots ? { imageRoots: options.imageRoots } : {}),
    },
    server: { modules: [createCrawlModule({ timing: { ...FAST_TIMING, ...options.timing } })] },
  });
  const progress = new Map<string, number[]>();
  server.events.subscribe((event) => {
    if (event.kind !== 'status') return;
    const list = progress.get(event.task.id) ?? [];
    list.push(event.task.progress);
    progress.set(event.task.id, list);
  });
  return Object.assign(server, { progress });
}

export function createCrawl(s: TestServer, body: Record<string, unknown>): Promise<Task> {
  return s.client.call<Task>('/api/crawl/create', body);
}

/** Create a crawl and wait until it ends; asserts it completed unless told otherwise. */
export async function runCrawl(
  s: TestServer,
  body: Record<string, unknown>,
  expected: Task['status'] = 'completed',
): Promise<{ task: Task; result: CrawlResult }> {
  const created = await createCrawl(s, body);
  const task = await waitForStatus(s.client, created.id, ['completed', 'failed', 'cancelled']);
  assert.equal(task.status, expected, `crawl ended ${task.status}: ${task.error_message ?? ''}`);
  return { task, result: task.result as CrawlResult };
}

export async function logsOf(s: TestServer, id: string): Promise<string[]> {
  const { logs } = await s.client.getLogs(id, { limit: 1000 });
  return logs.map((log) => `${log.level} ${log.message}`);
}

export function filesIn(dir: string): string[] {
  return readdirSync(dir).sort();
}

/** Ids 1000001, 1000002, … */
export function ids(count: number, from = 1_000_001): string[] {
  return Array.from({ length: count }, (_, index) => String(from + index));
}

export async function addWorks(fake: FakePixiv, list: readonly string[]): Promise<void> {
  for (const id of list) await fake.addWork(id);
}
