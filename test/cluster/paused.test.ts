import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { eventually, waitForStatus } from '../helpers/server.js';
import { postgresSkipReason } from '../store/pg-harness.js';
import { Cluster } from './harness.js';

const skip = await postgresSkipReason();

describe('a node that was only paused', { skip }, () => {
  let cluster: Cluster | undefined;
  after(async () => {
    await cluster?.dispose();
  });

  test(
    'comes back after losing its lease and cannot write over the task another node recovered (fencing)',
    { timeout: 120_000 },
    async () => {
      cluster = await Cluster.create({ leaseMs: 1_500, pollMs: 500 });
      const sleeper = await cluster.startNode({ id: 'sleeper' });
      const task = await sleeper.client.createTask(
        'alpha',
        { ms: 60_000, label: 'p1' },
        { max_attempts: 3 },
      );
      await eventually(
        () =>
          cluster!
            .journal()
            .some((e) => e.event === 'start' && e.id === task.id && e.node === 'sleeper'),
        30_000,
        'the sleeper to start the task',
      );
      const awake = await cluster.startNode({ id: 'awake' });

      // Freeze the owner: no heartbeat, no writes. Its lease expires and `awake` recovers the task.
      sleeper.child.process.kill('SIGSTOP');
      await eventually(
        () =>
          cluster!
            .journal()
            .some((e) => e.event === 'start' && e.id === task.id && e.node === 'awake'),
        30_000,
        'the task to be recovered and restarted on the awake node',
      );

      // Wake the sleeper while the recovered attempt still runs. Its next heartbeat finds the
      // lease gone and aborts its executor; whatever it would write carries its old claim token.
      sleeper.child.process.kill('SIGCONT');
      await eventually(
        () =>
          cluster!
            .journal()
            .some((e) => e.event === 'end' && e.id === task.id && e.node === 'sleeper'),
        30_000,
        "the sleeper's stale executor to return",
      );
      const during = await awake.client.getTask(task.id);
      assert.equal(during.status, 'running', 'the stale owner changed the recovered task');
      assert.equal(during.owner, 'awake', 'the stale owner took the task back');
      assert.equal(during.attempts, 2);

      const stopped = await awake.client.stopTask(task.id);
      assert.equal(stopped.status, 'cancelled');
      assert.equal(stopped.owner, 'awake');
      // The sleeper is healthy again and takes new work.
      const next = await sleeper.client.createTask('beta', { ms: 5, label: 'after' });
      await waitForStatus(sleeper.client, next.id, ['completed'], 30_000);
    },
  );
});
