import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { eventually } from '../../helpers/server.js';
import { fakeRunOf, processAlive, startTrainHarness, type TrainHarness } from './harness.js';

const TIMEOUT = { timeout: 60_000 };

describe('stopping a training', () => {
  let h: TrainHarness;
  afterEach(async () => {
    await h.close();
  });

  /** Create a long training and wait until the fake trainer has recorded its pids and steps. */
  async function startLong(knobs: Parameters<TrainHarness['dataset']>[3]) {
    h.dataset('sets/long', 2, 2, { steps_per_epoch: 100_000, step_delay: 0.01, ...knobs });
    h.model('checkpoints', 'base.safetensors');
    const created = await h.post('/api/train/create', {
      dataset_dir: 'sets/long',
      base_model: 'base.safetensors',
      max_train_epochs: 2,
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const id = (created.body.data as { id: string }).id;
    const outputDir = h.server.tasks.outputDirOf(id);
    await eventually(
      () => existsSync(join(outputDir, 'fake_kohya_run.json')),
      20_000,
      'the trainer to start',
    );
    await eventually(
      async () => (await h.server.client.getTask(id)).message?.includes('step') === true,
      20_000,
      'the first step',
    );
    const run = fakeRunOf(outputDir);
    return { id, run };
  }

  test(
    'stopping mid-epoch cancels the task and ends the trainer and its grandchild',
    TIMEOUT,
    async () => {
      h = await startTrainHarness();
      const { id, run } = await startLong({ grandchild: true });
      assert.equal(run.pgid, run.pid, 'the trainer leads its own process group');
      assert.ok(run.grandchild !== null && processAlive(run.grandchild));
      const stopped = await h.server.client.call<{ status: string }>('/api/task/stop', {
        task_id: id,
      });
      assert.equal(stopped.status, 'cancelled');
      await eventually(
        () => !processAlive(run.pid) && !processAlive(run.grandchild!),
        5_000,
        'the process group to end',
      );
    },
  );

  test(
    'a trainer that ignores SIGINT and SIGTERM is killed with SIGKILL after the grace periods, grandchild included',
    TIMEOUT,
    async () => {
      h = await startTrainHarness({
        timings: { interruptGraceMs: 500, terminateGraceMs: 500 },
      });
      const { id, run } = await startLong({
        grandchild: true,
        ignore_sigint: true,
        ignore_sigterm: true,
      });
      const started = Date.now();
      await h.server.client.call('/api/task/stop', { task_id: id });
      await eventually(
        () => !processAlive(run.pid) && !processAlive(run.grandchild!),
        10_000,
        'the process group to end',
      );
      const took = Date.now() - started;
      assert.ok(took >= 1_000, `escalated only after both grace periods (${took} ms)`);
      const task = await h.server.client.getTask(id);
      assert.equal(task.status, 'cancelled');
      const logs = await h.server.tasks.logs(id, 0, 1000);
      const sent = logs
        .map((l) => /sending (SIG\w+) to the trainer's process group/.exec(l.message)?.[1])
        .filter(Boolean);
      assert.deepEqual(sent, ['SIGINT', 'SIGTERM', 'SIGKILL'], 'the task log shows the escalation');
    },
  );

  test(
    'a trainer that ignores only SIGINT ends on SIGTERM without waiting for SIGKILL',
    TIMEOUT,
    async () => {
      h = await startTrainHarness({
        timings: { interruptGraceMs: 300, terminateGraceMs: 30_000 },
      });
      const { id, run } = await startLong({ ignore_sigint: true });
      const started = Date.now();
      await h.server.client.call('/api/task/stop', { task_id: id });
      await eventually(() => !processAlive(run.pid), 10_000, 'the trainer to end');
      assert.ok(Date.now() - started < 10_000, 'SIGTERM ended it long before the SIGKILL deadline');
      assert.equal((await h.server.client.getTask(id)).status, 'cancelled');
    },
  );

  test('a training cancelled while queued never starts its trainer', TIMEOUT, async () => {
    h = await startTrainHarness();
    const first = await startLong({});
    h.dataset('sets/queued', 1, 1, { steps_per_epoch: 1 });
    const queued = await h.post('/api/train/create', {
      dataset_dir: 'sets/queued',
      base_model: 'base.safetensors',
    });
    const queuedId = (queued.body.data as { id: string }).id;
    assert.equal(
      (await h.server.client.getTask(queuedId)).status,
      'pending',
      'one training at a time',
    );
    const cancelled = await h.server.client.call<{ status: string }>('/api/cancel', {
      task_id: queuedId,
    });
    assert.equal(cancelled.status, 'cancelled');
    await h.server.client.call('/api/task/stop', { task_id: first.id });
    await eventually(() => !processAlive(first.run.pid), 5_000, 'the first trainer to end');
    // The lane is free again; give a wrongly queued task the chance to start.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await h.server.client.getTask(queuedId)).status, 'cancelled');
    assert.equal(
      existsSync(join(h.server.tasks.outputDirOf(queuedId), 'fake_kohya_run.json')),
      false,
    );
  });
});
