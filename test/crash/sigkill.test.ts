import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { TailorClient, type Task } from '../../src/client/index.js';
import { childNode, readJournal as journal, spawnServer } from '../helpers/child.js';
import { eventually, waitForStatus } from '../helpers/server.js';

test('after a SIGKILL, waiting tasks still run in order, interrupted ones are requeued or failed per max_attempts, no lane is blocked', async () => {
  const { dataDir, journal: file, env } = childNode('crash-node');
  let server = await spawnServer('./child-server.ts', env);
  try {
    let client = new TailorClient({ baseUrl: server.url });
    // alpha: the head may retry once; beta: the head has a single attempt.
    const a1 = await client.createTask('alpha', { ms: 1500, label: 'a1' }, { max_attempts: 2 });
    const alphaWaiting: Task[] = [];
    for (let i = 2; i <= 4; i++)
      alphaWaiting.push(await client.createTask('alpha', { ms: 10, label: `a${i}` }));
    const b1 = await client.createTask('beta', { ms: 60_000, label: 'b1' }, { max_attempts: 1 });
    const b2 = await client.createTask('beta', { ms: 10, label: 'b2' });
    await eventually(
      () => {
        const started = journal(file)
          .filter((e) => e.event === 'start')
          .map((e) => e.id);
        return started.includes(a1.id) && started.includes(b1.id);
      },
      20_000,
      'the heads of both lanes to start',
    );

    assert.equal(await server.kill('SIGKILL'), null);
    const beforeRestart = journal(file).length;

    server = await spawnServer('./child-server.ts', env);
    client = new TailorClient({ baseUrl: server.url });

    const failed = await waitForStatus(client, b1.id, ['failed']);
    assert.match(failed.error_message ?? '', /interrupted/);
    await waitForStatus(client, b2.id, ['completed']);
    for (const t of [a1, ...alphaWaiting]) await waitForStatus(client, t.id, ['completed']);

    const a1After = await client.getTask(a1.id);
    assert.equal(a1After.attempts, 2, 'the interrupted head ran a second attempt');
    // After the restart the requeued head runs first, then the waiting tasks in creation order.
    const alphaOrder = journal(file)
      .slice(beforeRestart)
      .filter((e) => e.event === 'start')
      .map((e) => e.id)
      .filter((id) => [a1.id, ...alphaWaiting.map((t) => t.id)].includes(id));
    assert.deepEqual(alphaOrder, [a1.id, ...alphaWaiting.map((t) => t.id)]);
    // Nothing lost: every task created is still there, in a terminal state.
    const { tasks, pagination } = await client.getTasks({ page_size: 100 });
    assert.equal(pagination.total, 6);
    assert.ok(tasks.every((t) => ['completed', 'failed'].includes(t.status)));
  } finally {
    await server.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('SIGTERM shuts down gracefully: the running task is requeued without spending an attempt and finishes after restart', async () => {
  const { dataDir, journal: file, env } = childNode('term-node');
  let server = await spawnServer('./child-server.ts', env);
  try {
    let client = new TailorClient({ baseUrl: server.url });
    const t = await client.createTask('gamma', { ms: 60_000 }, { max_attempts: 1 });
    await eventually(
      () => journal(file).some((e) => e.event === 'start' && e.id === t.id),
      20_000,
      'the task to start',
    );
    assert.equal(await server.kill('SIGTERM'), 0);
    assert.ok(
      journal(file).some((e) => e.event === 'end' && e.id === t.id),
      'the executor was aborted before exit',
    );

    server = await spawnServer('./child-server.ts', env);
    client = new TailorClient({ baseUrl: server.url });
    const restarted = await eventually(
      async () => {
        const task = await client.getTask(t.id);
        return task.status === 'running' ? task : undefined;
      },
      20_000,
      'the requeued task to run again',
    );
    assert.equal(restarted.attempts, 1, 'the shutdown did not use up the only attempt');
    await client.stopTask(t.id);
  } finally {
    await server.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
