import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { trainerCommand } from '../../../src/executors/train/kohya-config.js';
import {
  LineSplitter,
  LossCurve,
  parseEpoch,
  parseSteps,
} from '../../../src/executors/train/trainer-output.js';

function split(chunks: readonly string[]) {
  const lines: string[] = [];
  const redraws: string[] = [];
  const splitter = new LineSplitter({
    line: (text) => lines.push(text),
    redraw: (text) => redraws.push(text),
  });
  for (const chunk of chunks) splitter.push(chunk);
  splitter.end();
  return { lines, redraws };
}

describe('reading the trainer output', () => {
  test('a tqdm bar redrawn with carriage returns becomes one line: its last state', () => {
    const { lines, redraws } = split([
      'loading model\n',
      '\rsteps:   0%|          | 0/3 [00:00<?, ?it/s]',
      '\rsteps:  33%|███       | 1/3 [00:01<00:02',
      ', 1.0it/s, avr_loss=0.5]\rsteps:  67%|██████    | 2/3 [00:02<00:01, 1.0it/s, avr_loss=0.4]',
      '\rsteps: 100%|██████████| 3/3 [00:03<00:00, 1.0it/s, avr_loss=0.3]\n',
      'saved\r\n',
    ]);
    assert.deepEqual(lines, [
      'loading model',
      'steps: 100%|██████████| 3/3 [00:03<00:00, 1.0it/s, avr_loss=0.3]',
      'saved',
    ]);
    assert.deepEqual(
      redraws.map((r) => parseSteps(r)?.step),
      [0, 1, 2],
      'each redraw is seen whole, even when split across chunks; the final state is the line',
    );
  });

  test('a bar still being drawn when the stream ends is logged as its last state', () => {
    const { lines } = split([
      '\rsteps:  10%|█         | 1/10 [00:01<00:09, 1.0it/s, avr_loss=0.2]\r',
    ]);
    assert.deepEqual(lines, ['steps:  10%|█         | 1/10 [00:01<00:09, 1.0it/s, avr_loss=0.2]']);
  });

  test("sd-scripts' step line gives percent, step, total, elapsed, ETA and average loss", () => {
    assert.deepEqual(
      parseSteps('steps:  42%|████      | 420/1000 [05:12<07:11,  1.34it/s, avr_loss=0.0912]'),
      { percent: 42, step: 420, total: 1000, elapsed: '05:12', eta: '07:11', loss: 0.0912 },
    );
    assert.deepEqual(parseSteps('steps:   0%|          | 0/1000 [00:00<?, ?it/s]'), {
      percent: 0,
      step: 0,
      total: 1000,
      elapsed: '00:00',
      eta: null,
      loss: null,
    });
    assert.equal(parseSteps('steps: 5%|x| 5/100 [00:01<00:20, 5it/s, avr_loss=nan]')?.loss, null);
    assert.equal(parseSteps('loading 420/1000 tensors'), null);
    assert.deepEqual(parseEpoch('epoch 3/10'), { epoch: 3, total: 10 });
    assert.deepEqual(parseEpoch('INFO     epoch 12/20   train_network.py:1050'), {
      epoch: 12,
      total: 20,
    });
    assert.equal(parseEpoch('num epochs / epoch数: 10'), null);
  });

  test('the loss curve stays within its limit, evenly thinned, and always ends at the latest step', () => {
    const curve = new LossCurve(500);
    for (let step = 1; step <= 100_000; step++) curve.add(step, 1 / step);
    const points = curve.toJSON();
    assert.ok(points.length <= 500, `${points.length} points`);
    assert.ok(points.length >= 250, `${points.length} points`);
    assert.equal(points[0]?.step, 1);
    assert.deepEqual(points.at(-1), { step: 100_000, loss: 1 / 100_000 });
    const gaps = new Set(points.slice(1, -1).map((p, i) => p.step - points[i]!.step));
    assert.equal(gaps.size, 1, `evenly spaced: gaps ${[...gaps].join(', ')}`);
    // A repeated or older step (a redraw of the same state) adds nothing.
    const short = new LossCurve(500);
    short.add(5, 0.5);
    short.add(5, 0.4);
    short.add(4, 0.3);
    assert.deepEqual(short.toJSON(), [{ step: 5, loss: 0.5 }]);
  });
});

describe('the trainer command line', () => {
  const launch = { kohyaDir: '/opt/sd-scripts', python: '/opt/venv/bin/python', accelerate: null };

  test('the script is started directly with the two TOML paths as separate arguments', () => {
    assert.deepEqual(trainerCommand('sdxl', launch, '/data/outputs/t1'), {
      command: '/opt/venv/bin/python',
      args: [
        '/opt/sd-scripts/sdxl_train_network.py',
        '--dataset_config',
        '/data/outputs/t1/dataset.toml',
        '--config_file',
        '/data/outputs/t1/config.toml',
      ],
    });
  });

  test('KOHYA_ACCELERATE launches through accelerate with its arguments split on spaces', () => {
    assert.deepEqual(
      trainerCommand(
        'flux',
        { ...launch, accelerate: ' --num_cpu_threads_per_process 1   --mixed_precision bf16 ' },
        '/out',
      ).args,
      [
        '-m',
        'accelerate.commands.launch',
        '--num_cpu_threads_per_process',
        '1',
        '--mixed_precision',
        'bf16',
        '/opt/sd-scripts/flux_train_network.py',
        '--dataset_config',
        '/out/dataset.toml',
        '--config_file',
        '/out/config.toml',
      ],
    );
  });
});
