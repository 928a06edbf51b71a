import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ServerMessage, Task, TaskFeed } from '../../src/client/index.js';
import { eventually, waitForStatus } from '../helpers/server.js';
import { postgresSkipReason } from '../store/pg-harness.js';
import { Cluster, executions, pick, TERMINAL, type ClusterNode } from './harness.js';

const skip = await postgresSkipReason();

/**
 * node-1 runs only `epsilon`, a type these tests never create, so everything runs on node-2 or
 * node-3; only node-2 runs `delta`.
 */
describe('events and control across nodes', { skip }, () => {
  let cluster: Cluster;
  let node1: ClusterNode;
  let node2: ClusterNode;
  let node3: ClusterNode;

  before(async () => {
    cluster = await Cluster.create();
    [node1, node2, node3] = (await cluster.start(
      { id: 'node-1', executors: ['epsilon'] },
      { id: 'node-2', executors: ['alpha', 'beta', 'gamma', 'delta'] },
      { id: 'node-3', executors: ['alpha', 'beta', 'gamma'] },
    )) as [ClusterNode, ClusterNode, ClusterNode];
  });

  after(async () => {
    await cluster?.dispose();
  });

  test(
    'a WebSocket client on node 1 sees every transition, log line, creation and deletion of tasks running on nodes 2 and 3, in order per task',
    { timeout: 120_000 },
    async () => {
      const feed: TaskFeed = await node1.client.connect();
      const messages: ServerMessage[] = [];
      feed.onMessage((message) => messages.push(message));
      feed.subscribeAll();
      try {
        await new Promise((resolve) => setTimeout(resolve, 100)); // let the subscription land
        const tasks: Task[] = [];
        for (let i = 0; i < 24; i++) {
          const config = {
            label: `w${i}`,
            ms: 20,
            logs: 3,
            progress: [30, 60],
            ...(i % 6 === 5 ? { fail: 'boom' } : {}),
          };
          tasks.push(
            await pick([node2, node3]).client.createTask(pick(['alpha', 'beta', 'gamma']), config),
          );
        }
        for (const task of tasks) await waitForStatus(node1.client, task.id, TERMINAL, 60_000);
        const deleted = tasks.slice(0, 3);
        for (const task of deleted) await node3.client.deleteTask(task.id);

        const forTask = (id: string): ServerMessage[] =>
          messages.filter(
            (m) =>
              ('task_id' in m && m.task_id === id) ||
              (m.type === 'task_created' && m.task.id === id),
          );
        await eventually(
          () => deleted.every((task) => forTask(task.id).some((m) => m.type === 'task_deleted')),
          30_000,
          'the deletions to reach node 1',
        );
        for (const task of tasks) {
          const final = await eventually(
            async () => {
              const seen = forTask(task.id).filter((m) => m.type === 'task_status');
              const last = seen[seen.length - 1];
              return last && TERMINAL.includes(last.status) ? last : undefined;
            },
            30_000,
            `the end of ${task.id} on node 1`,
          );
          const seen = forTask(task.id);
          assert.equal(seen[0]?.type, 'task_created', 'created comes first');
          const statuses = seen.flatMap((m) => (m.type === 'task_status' ? [m] : []));
          const versions = statuses.map((m) => m.version);
          assert.deepEqual(
            versions,
            [...versions].sort((a, b) => a - b),
            'versions in order',
          );
          assert.equal(new Set(versions).size, versions.length, 'no transition twice');
          // Every transition: running (with its progress) and then the end, nothing after it.
          const transitions = statuses
            .map((m) => m.status)
            .filter((s, i, all) => i === 0 || all[i - 1] !== s);
          assert.deepEqual(transitions, ['running', task.config.fail ? 'failed' : 'completed']);
          assert.equal(final.status, task.config.fail ? 'failed' : 'completed');
          const logs = seen.flatMap((m) => (m.type === 'task_log' ? [m.seq] : []));
          const stored = deleted.includes(task)
            ? logs
            : (await node1.client.getLogs(task.id)).logs.map((l) => l.seq);
          assert.deepEqual(logs, stored, 'every stored log line, in seq order');
          assert.ok(logs.length >= 4);
        }
        const ranOn = new Set(
          executions(cluster.journal())
            .intervals.filter((i) => tasks.some((t) => t.id === i.id))
            .map((i) => i.node),
        );
        assert.ok(!ranOn.has('node-1') && ranOn.size > 0, `ran on ${[...ranOn].join(', ')}`);
      } finally {
        feed.close();
      }
    },
  );

  test(
    'a task running on node 2 stopped through node 3 ends cancelled, its executor aborted',
    { timeout: 60_000 },
    async () => {
      const task = await node1.client.createTask('delta', { ms: 600_000, label: 'long' });
      await eventually(
        () => cluster.journal().some((e) => e.event === 'start' && e.id === task.id),
        30_000,
        'the task to start',
      );
      const stopped = await node3.client.stopTask(task.id);
      assert.equal(stopped.status, 'cancelled');
      assert.match(stopped.error_message ?? '', /cancelled|stopped/);
      const runs = executions(cluster.journal()).intervals.filter((i) => i.id === task.id);
      assert.equal(
        runs.length,
        1,
        'its executor returned (a 10-minute sleep that only an abort ends)',
      );
      assert.equal(runs[0]!.node, 'node-2');
    },
  );

  test(
    'a task of a type only node 2 runs waits for node 2 and is executed there, wherever it was created',
    { timeout: 60_000 },
    async () => {
      const tasks = [
        await node1.client.createTask('delta', { ms: 5, label: 'd1' }),
        await node3.client.createTask('delta', { ms: 5, label: 'd2' }),
        await node2.client.createTask('delta', { ms: 5, label: 'd3' }),
      ];
      for (const task of tasks) await waitForStatus(node3.client, task.id, ['completed'], 30_000);
      const nodes = executions(cluster.journal())
        .intervals.filter((i) => tasks.some((t) => t.id === i.id))
        .map((i) => i.node);
      assert.deepEqual(nodes, ['node-2', 'node-2', 'node-2']);
    },
  );
});
