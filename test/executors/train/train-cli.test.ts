import assert from 'node:assert/strict';
import { Command } from 'commander';
import { afterEach, describe, test } from 'node:test';
import type { Task } from '../../../src/client/index.js';
import { trainCli } from '../../../src/executors/train/cli.js';
import type { CliContext } from '../../../src/executors/module.js';
import { startTrainHarness, trainResultOf, type TrainHarness } from './harness.js';

const TIMEOUT = { timeout: 60_000 };

describe('tailor train', () => {
  let h: TrainHarness;
  const exitCode = process.exitCode;
  afterEach(async () => {
    process.exitCode = exitCode;
    await h.close();
  });

  function cliFor(printed: Task[], watched: string[]): CliContext {
    return {
      client: () => h.server.client,
      json: () => false,
      printTask: (task) => printed.push(task),
      watch: async (id) => {
        watched.push(id);
        const { status } = await h.waitFor(id, ['completed', 'failed', 'cancelled']);
        return status === 'completed' || status === 'cancelled' ? status : 'failed';
      },
      exitCodeOf: (status) => (status === 'completed' ? 0 : status === 'failed' ? 1 : 3),
    };
  }

  test(
    'queues a training from the command line, watches it and exits with its outcome',
    TIMEOUT,
    async () => {
      h = await startTrainHarness();
      h.dataset('sets/cli', 2, 2, { steps_per_epoch: 2 });
      h.model('checkpoints', 'base.safetensors');
      const printed: Task[] = [];
      const watched: string[] = [];
      const program = new Command().exitOverride();
      trainCli(program, cliFor(printed, watched));
      await program.parseAsync(
        [
          'train',
          'sets/cli',
          '--base-model',
          'base.safetensors',
          '--family',
          'sd15',
          '--epochs',
          '2',
          '--dim',
          '8',
          '--alpha',
          '4',
          '--name',
          'from-cli',
          '--watch',
        ],
        { from: 'user' },
      );
      assert.equal(printed.length, 1);
      const task = printed[0]!;
      assert.deepEqual(watched, [task.id]);
      assert.equal(process.exitCode, 0);
      assert.equal(task.type, 'train');
      const config = task.config as Record<string, unknown>;
      assert.equal(config.dataset_dir, 'sets/cli');
      assert.equal(config.max_train_epochs, 2);
      assert.equal(config.network_dim, 8);
      assert.equal(config.network_alpha, 4);
      const done = await h.server.client.getTask(task.id);
      assert.equal(trainResultOf(done).final?.file, 'from-cli.safetensors');
    },
  );

  test('a family outside sd15, sdxl and flux is refused before any request', TIMEOUT, async () => {
    h = await startTrainHarness();
    const printed: Task[] = [];
    const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined });
    trainCli(program, cliFor(printed, []));
    await assert.rejects(
      program.parseAsync(['train', 'sets/x', '--base-model', 'b.safetensors', '--family', 'sd3'], {
        from: 'user',
      }),
      /must be one of sd15, sdxl, flux/,
    );
    assert.equal(printed.length, 0);
  });
});
