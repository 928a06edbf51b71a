import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newClaimToken, newTaskId } from '../../src/domain/ids.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import type { Flags } from '../lib/args.js';
import { spawnServer, type ChildServer } from '../lib/spawn-server.js';
import { percentile, printResult, printTable, round } from '../lib/stats.js';

/** Roughly what a busy installation holds: weights of types and statuses. */
const TYPES: [string, number][] = [
  ['generate', 0.5],
  ['crawl', 0.25],
  ['upscale', 0.15],
  ['caption', 0.1],
];
const STATUSES: [string, number][] = [
  ['completed', 0.7],
  ['failed', 0.1],
  ['cancelled', 0.08],
  ['pending', 0.12],
];

function pick(weights: [string, number][], x: number): string {
  let sum = 0;
  for (const [value, weight] of weights) {
    sum += weight;
    if (x < sum) return value;
  }
  return weights[weights.length - 1]![0];
}

/** One transaction of bulk inserts straight into the file, then the store is closed. */
async function seed(file: string, count: number): Promise<void> {
  const store = new SqliteStore({ file });
  await store.migrate();
  const db = store.db.raw;
  const insert = db.prepare(
    `INSERT INTO tasks (id, type, status, progress, message, config, result, error_message, priority,
       queue_seq, attempts, max_attempts, owner, owner_instance, claim_token, lease_expires_at,
       created_at, started_at, completed_at, updated_at)
     VALUES (?, ?, ?, ?, '', ?, ?, ?, 0, ?, ?, 3, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const start = Date.now() - count * 1000;
  let x = 0x2545f491;
  const random = (): number => {
    // xorshift: the same data on every run.
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const type = pick(TYPES, random());
      const status = pick(STATUSES, random());
      const at = new Date(start + i * 1000).toISOString();
      const done = status !== 'pending';
      insert.run(
        newTaskId(start + i * 1000),
        type,
        status,
        status === 'completed' ? 100 : 0,
        JSON.stringify({ prompt: `a seeded ${type} task number ${i}`, steps: 20 }),
        status === 'completed' ? JSON.stringify({ images: [`outputs/${i}.png`] }) : null,
        status === 'failed' ? 'executor failed: seeded' : null,
        i + 1,
        done ? 1 : 0,
        done ? 'seed-node' : null,
        null,
        null,
        null,
        at,
        done ? at : null,
        done ? at : null,
        at,
      );
    }
    // One running task per type, owned by a live-looking node (lease far in the future).
    for (const [type] of TYPES) {
      const at = new Date().toISOString();
      insert.run(
        newTaskId(),
        type,
        'running',
        10,
        '{}',
        null,
        null,
        count + 1,
        1,
        'seed-node',
        'seed',
        newClaimToken(),
        Date.now() + 86_400_000,
        at,
        at,
        null,
        at,
      );
    }
  })();
  await store.close();
}

interface Case {
  name: string;
  body: Record<string, unknown>;
}

const CASES: Case[] = [];
for (const [filter, where] of [
  ['none', {}],
  ['type', { type: 'upscale' }],
  ['status', { status: 'failed' }],
  ['type+status', { type: 'upscale', status: 'failed' }],
] as const) {
  for (const page of [1, 50]) {
    CASES.push({
      name: `${filter}, page ${page}`,
      body: { ...where, pagination: { page, page_size: 20 } },
    });
  }
}

async function measure(
  server: ChildServer,
  requests: number,
): Promise<{ name: string; p50: number; p99: number; total: number }[]> {
  const results = [];
  for (const { name, body } of CASES) {
    const text = JSON.stringify(body);
    const times: number[] = [];
    let total = 0;
    for (let i = 0; i < requests + 5; i++) {
      const t0 = performance.now();
      const response = await fetch(`${server.url}/api/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: text,
      });
      const json = (await response.json()) as { data?: { pagination: { total: number } } };
      if (!response.ok || !json.data) throw new Error(`POST /api/tasks ${response.status}`);
      total = json.data.pagination.total;
      if (i >= 5) times.push(performance.now() - t0); // the first few warm caches and sockets
    }
    results.push({ name, p50: percentile(times, 50), p99: percentile(times, 99), total });
  }
  return results;
}

/** `POST /api/tasks` over HTTP with N tasks stored, per filter and page; RSS against an empty store. */
export async function apiScenario(flags: Flags): Promise<void> {
  const tasks = flags.int('tasks', 1_000_000);
  const requests = flags.int('requests', 200);
  const dir = mkdtempSync(join(tmpdir(), 'tailor-bench-api-'));
  const types = TYPES.map(([type]) => type);
  try {
    const idle = await spawnServer(join(dir, 'empty.db'), types);
    await measure(idle, 20);
    const idleRss = await idle.rssMb();
    await idle.stop();

    const file = join(dir, 'full.db');
    const seeding = performance.now();
    await seed(file, tasks);
    console.error(`seeded ${tasks} tasks in ${round((performance.now() - seeding) / 1000, 1)} s`);
    const server = await spawnServer(file, types);
    const results = await measure(server, requests);
    const rss = await server.rssMb();
    await server.stop();

    printTable(`api — POST /api/tasks with ${tasks} tasks stored, ${requests} requests per case`, [
      ['case', 'total', 'p50 ms', 'p99 ms'],
      ...results.map((r) => [r.name, r.total, round(r.p50, 2), round(r.p99, 2)]),
      ['server RSS idle (MB)', idleRss, '', ''],
      [`server RSS with ${tasks} (MB)`, rss, `× ${round(rss / idleRss)}`, ''],
    ]);
    printResult({
      scenario: 'api',
      tasks,
      worst_p99_ms: round(Math.max(...results.map((r) => r.p99)), 2),
      rss_mb: rss,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
