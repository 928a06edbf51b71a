import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  TailorApiError,
  type ServerMessage,
  type Task,
  type TaskFeed,
} from '../../src/client/index.js';
import { postgresSkipReason } from '../store/pg-harness.js';
import {
  allTasks,
  Cluster,
  executions,
  overlaps,
  pick,
  TERMINAL,
  waitForQuiet,
  type ClusterNode,
} from './harness.js';

const skip = await postgresSkipReason();
const TASKS = Number(process.env.CLUSTER_TASKS ?? 300);
const TYPES = ['alpha', 'beta', 'gamma', 'delta'] as const;

/** A random, mostly short job: some log, some report progress, some fail. */
function randomConfig(i: number): Record<string, unknown> {
  const roll = Math.random();
  return {
    label: `t${i}`,
    ms: Math.floor(Math.random() * 12),
    ...(roll < 0.2 ? { logs: 1 + Math.floor(Math.random() * 3) } : {}),
    ...(roll > 0.7 ? { progress: [40, 80] } : {}),
    ...(roll > 0.92 ? { fail: 'boom' } : {}),
  };
}

/** Ignore the 409 of an action that raced with the task's own progress (already finished…). */
async function tolerateIllegal<T>(action: Promise<T>): Promise<T | null> {
  try {
    return await action;
  } catch (error) {
    if (error instanceof TailorApiError && error.httpStatus === 409) return null;
    throw error;
  }
}

describe('a three-node cluster under a randomized load', { skip }, () => {
  let cluster: Cluster;
  let nodes: ClusterNode[];
  let feed: TaskFeed;
  const messages: ServerMessage[] = [];

  before(async () => {
    cluster = await Cluster.create();
    nodes = await cluster.start({ id: 'node-1' }, { id: 'node-2' }, { id: 'node-3' });
    feed = await nodes[0]!.client.connect();
    feed.onMessage((message) => messages.push(message));
    feed.subscribeAll();
  });

  after(async () => {
    feed?.close();
    await cluster?.dispose();
  });

  test(
    `${TASKS} tasks created, cancelled and re-run on random nodes: one task per type at a time across processes, every task ends exactly once, nothing lost`,
    { timeout: 600_000 },
    async () => {
      const created: Task[] = [];
      /** Terminal transitions each task must go through: one per life (creation or re-run). */
      const lives = new Map<string, number>();
      let cancels = 0;

      // Phase 1: creates from a few concurrent "users", each on a random node, with cancels of
      // random earlier tasks (pending, running or already over) mixed in.
      let next = 0;
      const user = async (): Promise<void> => {
        while (next < TASKS) {
          const i = next++;
          const task = await pick(nodes).client.createTask(pick(TYPES), randomConfig(i));
          created.push(task);
          lives.set(task.id, 1);
          if (Math.random() < 0.08) {
            const victim = pick(created);
            if (await tolerateIllegal(pick(nodes).client.cancelTask(victim.id))) cancels++;
          }
        }
      };
      await Promise.all(Array.from({ length: 12 }, user));
      await waitForQuiet(nodes[0]!.client, 30_000);

      // Phase 2: re-run some finished tasks on random nodes, while cancelling a few of them.
      const reruns = created.filter(() => Math.random() < 0.1);
      await Promise.all(
        reruns.map(async (task) => {
          const rerun = await pick(nodes).client.startTask(task.id);
          assert.ok(['pending', 'running', ...TERMINAL].includes(rerun.status));
          lives.set(task.id, lives.get(task.id)! + 1);
          if (
            Math.random() < 0.3 &&
            (await tolerateIllegal(pick(nodes).client.cancelTask(task.id)))
          )
            cancels++;
        }),
      );
      await waitForQuiet(nodes[0]!.client, 30_000);

      // Nothing lost: every task is in the database, in a terminal state.
      const stored = new Map((await allTasks(nodes[1]!.client)).map((task) => [task.id, task]));
      assert.equal(stored.size, created.length);
      for (const task of created)
        assert.ok(
          TERMINAL.includes(stored.get(task.id)!.status),
          `${task.id} is ${stored.get(task.id)!.status}`,
        );

      // From the executors' side: every start has its end, and one type never ran twice at once.
      const { intervals, unfinished } = executions(cluster.journal());
      assert.deepEqual(unfinished, [], 'every executor that started returned');
      assert.deepEqual(
        overlaps(intervals),
        [],
        'no two tasks of one type overlapped, across processes',
      );
      for (const interval of intervals) assert.ok(stored.has(interval.id));
      const ran = new Set(intervals.map((interval) => interval.id));
      for (const task of stored.values()) {
        if (task.status !== 'cancelled')
          assert.ok(ran.has(task.id), `${task.id} ${task.status} without running`);
      }
      const byNode = new Map<string, number>();
      for (const interval of intervals)
        byNode.set(interval.node, (byNode.get(interval.node) ?? 0) + 1);
      assert.ok(byNode.size > 1, `tasks ran on more than one node: ${JSON.stringify([...byNode])}`);

      // Every task ended exactly once per life, as a WebSocket client on node 1 saw it (the events
      // of nodes 2 and 3 included), with versions increasing.
      await waitForFeed(messages, created.length, lives);
      const terminalSeen = new Map<string, number>();
      const lastVersion = new Map<string, number>();
      for (const message of messages) {
        if (message.type !== 'task_status') continue;
        assert.ok(
          message.version > (lastVersion.get(message.task_id) ?? 0),
          `versions of ${message.task_id} increase`,
        );
        lastVersion.set(message.task_id, message.version);
        if (TERMINAL.includes(message.status))
          terminalSeen.set(message.task_id, (terminalSeen.get(message.task_id) ?? 0) + 1);
      }
      for (const [id, expected] of lives)
        assert.equal(terminalSeen.get(id) ?? 0, expected, `terminal transitions of ${id}`);
      console.log(
        `cluster load: ${created.length} tasks, ${reruns.length} re-runs, ${cancels} cancels, ${intervals.length} executions; per node ${JSON.stringify(Object.fromEntries(byNode))}`,
      );
    },
  );
});

/** The feed is asynchronous: wait until it has caught up with the last terminal transitions. */
async function waitForFeed(
  messages: ServerMessage[],
  tasks: number,
  lives: Map<string, number>,
): Promise<void> {
  const expected = [...lives.values()].reduce((a, b) => a + b, 0);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const created = messages.filter((m) => m.type === 'task_created').length;
    const terminal = messages.filter(
      (m) => m.type === 'task_status' && TERMINAL.includes(m.status),
    ).length;
    if (created >= tasks && terminal >= expected) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
