/**
 * Cluster tests: real server processes (`test/helpers/cluster-node.ts`) sharing one throwaway
 * PostgreSQL schema. Each node journals its executors' starts and ends to a file of its own, so
 * the lane invariant is checked from the executors' side, across processes, even after a SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { TailorClient, type SocketFactory, type Task } from '../../src/client/index.js';
import { eventually, tempDir } from '../helpers/server.js';
import { createTestSchema, type TestSchema } from '../store/pg-harness.js';

export interface NodeSpec {
  id: string;
  /** TAILOR_EXECUTORS; all test types when omitted. */
  executors?: string[];
  /** Connect through this URL instead of the schema's (e.g. a proxy). */
  db?: string;
  env?: NodeJS.ProcessEnv;
}

/** A node process; `kill` resolves once it has exited. */
export interface Child {
  process: ChildProcess;
  url: string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const NODE_SCRIPT = new URL('../helpers/cluster-node.ts', import.meta.url).pathname;

/**
 * Start `cluster-node.ts` and wait for its `LISTENING <url>` line. A node that does not get there
 * is killed (never left behind to keep the test process alive) and its output is in the error.
 */
async function spawnNode(env: NodeJS.ProcessEnv, timeoutMs = 90_000): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', NODE_SCRIPT], {
    env: { ...process.env, TAILOR_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`node did not start within ${timeoutMs} ms`)),
        timeoutMs,
      );
      let stdout: string | null = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output = (output + chunk.toString()).slice(-4_000);
        if (stdout === null) return;
        stdout += chunk.toString();
        const match = /LISTENING (\S+)/.exec(stdout);
        if (match) {
          stdout = null;
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(
          new Error(`node exited with ${child.exitCode ?? child.signalCode} before listening`),
        );
      });
    });
    return { process: child, url, kill };
  } catch (error) {
    await kill();
    throw new Error(`${(error as Error).message}; output: ${output}`);
  }
}

export interface ClusterNode {
  id: string;
  child: Child;
  client: TailorClient;
  journal: string;
  url: string;
}

export interface JournalEntry {
  event: 'start' | 'end';
  id: string;
  type: string;
  at: number;
  node: string;
}

export interface ClusterOptions {
  leaseMs?: number;
  /** The safety poll (orphan recovery, re-wake). Large by default: hand-offs must not need it. */
  pollMs?: number;
  graceMs?: number;
}

export class Cluster {
  readonly nodes = new Map<string, ClusterNode>();
  private readonly dir = tempDir('tailor-cluster-');

  private constructor(
    readonly schema: TestSchema,
    private readonly options: ClusterOptions,
  ) {}

  static async create(options: ClusterOptions = {}): Promise<Cluster> {
    return new Cluster(await createTestSchema('tailor_cluster'), options);
  }

  /** Start nodes in parallel; resolves once every one of them listens. */
  async start(...specs: NodeSpec[]): Promise<ClusterNode[]> {
    return Promise.all(specs.map((spec) => this.startNode(spec)));
  }

  async startNode(spec: NodeSpec): Promise<ClusterNode> {
    const journal = join(this.dir, `${spec.id}.journal`);
    const child = await spawnNode({
      TAILOR_DB: spec.db ?? this.schema.url,
      TAILOR_PORT: '0',
      TAILOR_NODE_ID: spec.id,
      TAILOR_DATA_DIR: join(this.dir, spec.id),
      TAILOR_LEASE_MS: String(this.options.leaseMs ?? 1_500),
      TAILOR_POLL_MS: String(this.options.pollMs ?? 3_600_000),
      TAILOR_GRACE_MS: String(this.options.graceMs ?? 2_000),
      TAILOR_TEST_JOURNAL: journal,
      ...(spec.executors ? { TAILOR_EXECUTORS: spec.executors.join(',') } : {}),
      ...spec.env,
    });
    const node: ClusterNode = {
      id: spec.id,
      child,
      journal,
      url: child.url,
      client: new TailorClient({
        baseUrl: child.url,
        WebSocket: WebSocket as unknown as SocketFactory,
      }),
    };
    this.nodes.set(spec.id, node);
    return node;
  }

  node(id: string): ClusterNode {
    const node = this.nodes.get(id);
    if (!node) throw new Error(`no node ${id}`);
    return node;
  }

  /** Every node's journal, merged and sorted by time. */
  journal(): JournalEntry[] {
    const entries: JournalEntry[] = [];
    for (const node of this.nodes.values()) {
      let text = '';
      try {
        text = readFileSync(node.journal, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n')) {
        const [event, id, type, at] = line.split(' ');
        if ((event === 'start' || event === 'end') && id && type && at) {
          entries.push({ event, id, type, at: Number(at), node: node.id });
        }
      }
    }
    return entries.sort((a, b) => a.at - b.at);
  }

  /** Kill every node (SIGKILL: nothing to wait for), drop the schema, delete the files. */
  async dispose(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((node) => node.child.kill('SIGKILL')));
    await this.schema.dispose();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface Interval {
  id: string;
  type: string;
  node: string;
  start: number;
  end: number;
}

/**
 * Executions rebuilt from the journal. An execution without an `end` belongs to a node that was
 * killed: it ends at `killedAt[node]` (a killed process runs nothing).
 */
export function executions(
  journal: JournalEntry[],
  killedAt: Record<string, number> = {},
): { intervals: Interval[]; unfinished: JournalEntry[] } {
  const open = new Map<string, JournalEntry>();
  const intervals: Interval[] = [];
  for (const entry of journal) {
    const key = `${entry.node} ${entry.id}`;
    if (entry.event === 'start') {
      if (open.has(key)) throw new Error(`task ${entry.id} started twice at once on ${entry.node}`);
      open.set(key, entry);
    } else {
      const start = open.get(key);
      if (!start) throw new Error(`task ${entry.id} ended on ${entry.node} without starting`);
      open.delete(key);
      intervals.push({
        id: entry.id,
        type: entry.type,
        node: entry.node,
        start: start.at,
        end: entry.at,
      });
    }
  }
  const unfinished: JournalEntry[] = [];
  for (const entry of open.values()) {
    const killed = killedAt[entry.node];
    if (killed === undefined) unfinished.push(entry);
    else
      intervals.push({
        id: entry.id,
        type: entry.type,
        node: entry.node,
        start: entry.at,
        end: killed,
      });
  }
  return { intervals, unfinished };
}

/** Pairs of executions of one type that overlapped in time, across every process. */
export function overlaps(intervals: Interval[]): [Interval, Interval][] {
  const found: [Interval, Interval][] = [];
  const byType = new Map<string, Interval[]>();
  for (const interval of intervals)
    byType.set(interval.type, [...(byType.get(interval.type) ?? []), interval]);
  for (const list of byType.values()) {
    list.sort((a, b) => a.start - b.start);
    let latest: Interval | null = null; // the execution so far that ends last
    for (const interval of list) {
      if (latest && interval.start < latest.end) found.push([latest, interval]);
      if (!latest || interval.end > latest.end) latest = interval;
    }
  }
  return found;
}

export const TERMINAL = ['completed', 'failed', 'cancelled'];

/** Wait until no task in the cluster is pending or running. */
export async function waitForQuiet(client: TailorClient, timeoutMs = 120_000): Promise<void> {
  const stuck = async (): Promise<string> => {
    const [pending, running] = await Promise.all([
      client.getTasks({ status: 'pending', page_size: 20 }),
      client.getTasks({ status: 'running', page_size: 20 }),
    ]);
    return JSON.stringify(
      [...pending.tasks, ...running.tasks].map((t) => [
        t.id,
        t.type,
        t.status,
        t.owner,
        t.attempts,
        t.updated_at,
      ]),
    );
  };
  await eventually(
    async () => {
      const [pending, running] = await Promise.all([
        client.getTasks({ status: 'pending', page_size: 1 }),
        client.getTasks({ status: 'running', page_size: 1 }),
      ]);
      return pending.pagination.total + running.pagination.total === 0;
    },
    timeoutMs,
    'every task to end',
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}; still open: ${await stuck()}`);
  });
}

/** Every task of the cluster, read page by page. */
export async function allTasks(client: TailorClient): Promise<Task[]> {
  const tasks: Task[] = [];
  for (let page = 1; ; page++) {
    const { tasks: batch, pagination } = await client.getTasks({ page, page_size: 100 });
    tasks.push(...batch);
    if (batch.length === 0 || tasks.length >= pagination.total) return tasks;
  }
}

export const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
