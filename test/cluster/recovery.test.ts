import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { eventually, waitForStatus } from '../helpers/server.js';
import { postgresSkipReason } from '../store/pg-harness.js';
import { Cluster, executions, overlaps } from './harness.js';

const skip = await postgresSkipReason();
const LEASE_MS = 1_500;
const POLL_MS = 500;

describe('a node killed mid-run', { skip }, () => {
  let cluster: Cluster | undefined;
  after(async () => {
    await cluster?.dispose();
  });

  test(
    'its running tasks are recovered by the other nodes once the lease expires (re-run or failed per max_attempts), and no lane stays blocked',
    { timeout: 120_000 },
    async () => {
      cluster = await Cluster.create({ leaseMs: LEASE_MS, pollMs: POLL_MS });
      // The victim starts alone, so it is the one that claims the heads of the lanes.
      const victim = await cluster.startNode({ id: 'victim' });
      const a1 = await victim.client.createTask(
        'alpha',
        // Runs until the kill on the victim, however long the survivors take to start; quick
        // when it runs again.
        { firstAttemptMs: 600_000, ms: 20, label: 'a1' },
        { max_attempts: 2 },
      );
      const b1 = await victim.client.createTask(
        'beta',
        { ms: 60_000, label: 'b1' },
        { max_attempts: 1 },
      );
      const waiting = [
        await victim.client.createTask('alpha', { ms: 20, label: 'a2' }),
        await victim.client.createTask('beta', { ms: 20, label: 'b2' }),
      ];
      await eventually(
        () => {
          const started = cluster!
            .journal()
            .filter((e) => e.event === 'start')
            .map((e) => e.id);
          return started.includes(a1.id) && started.includes(b1.id);
        },
        30_000,
        'the victim to start both heads',
      );

      const [survivor1, survivor2] = await cluster.start(
        { id: 'survivor-1' },
        { id: 'survivor-2' },
      );
      const killedAt = Date.now();
      await victim.child.kill('SIGKILL');

      // A lane waiting on a dead node is a lane that must not stay blocked: new work still flows.
      const fresh = await survivor2!.client.createTask('gamma', { ms: 10, label: 'g1' });

      const failed = await waitForStatus(survivor1!.client, b1.id, ['failed'], 60_000);
      assert.match(failed.error_message ?? '', /interrupted/);
      const completed = await waitForStatus(survivor1!.client, a1.id, ['completed'], 60_000);
      assert.equal(completed.attempts, 2, 'the interrupted task ran a second attempt');
      for (const task of [...waiting, fresh])
        await waitForStatus(survivor2!.client, task.id, ['completed'], 60_000);

      const journal = cluster.journal();
      const rerun = journal.find(
        (e) => e.event === 'start' && e.id === a1.id && e.node !== 'victim',
      );
      assert.ok(rerun, 'the interrupted task ran again on a surviving node');
      const recoveryMs = rerun.at - killedAt;
      console.log(
        `cluster recovery: SIGKILL → interrupted task running on ${rerun.node} after ${recoveryMs} ms (lease ${LEASE_MS} ms, safety poll ${POLL_MS} ms)`,
      );

      const { intervals, unfinished } = executions(journal, { victim: killedAt });
      assert.deepEqual(unfinished, []);
      assert.deepEqual(
        overlaps(intervals),
        [],
        'the re-run did not overlap the killed execution, nor anything else of its type',
      );
      assert.ok(
        !intervals.some((i) => i.id === b1.id && i.node !== 'victim'),
        'a task out of attempts is not run again',
      );
    },
  );
});
