import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { watchTask } from '../../src/cli/watch.js';
import { startTestServer, waitForStatus } from '../helpers/server.js';
import { runCli, startCli } from './run-cli.js';

test('create --wait exits 0 when the task completed, 1 when it failed; a bad --config is a usage error (2)', async () => {
  const s = await startTestServer();
  try {
    const ok = await runCli([
      '--url',
      s.url,
      'create',
      'alpha',
      '--config',
      '{"logs":2}',
      '--wait',
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /completed\s+100%/);
    assert.match(ok.stdout, /message: done/);

    const failed = await runCli([
      '--url',
      s.url,
      'create',
      'alpha',
      '--config',
      '{"fail":"out of VRAM"}',
      '--wait',
    ]);
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stdout, /message: failed: out of VRAM/);

    const usage = await runCli(['--url', s.url, 'create', 'alpha', '--config', '{nope']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--config is not JSON/);
    const unknownOption = await runCli(['--url', s.url, 'list', '--colour']);
    assert.equal(unknownOption.code, 2);
  } finally {
    await s.dispose();
  }
});

test('logs --follow, watch <id> and create --watch exit 3 when the task is cancelled, after its last log line', async () => {
  const s = await startTestServer();
  try {
    const held = await s.client.createTask('beta', { logs: 2, progress: [40], gate: 'exit-3' });
    await s.gates.entered('exit-3');
    const follow = startCli(['--url', s.url, 'logs', held.id, '--follow']);
    const watch = startCli(['--url', s.url, 'watch', held.id]);
    const created = startCli(['--url', s.url, 'create', 'beta', '--config', '{}', '--watch']);
    const queued = await eventuallyPending(s.client, 'beta');
    // A watcher subscribes before it reads the stored log: once it has printed that, it will
    // see the cancellation happen (one that subscribed later would only see the end).
    await waitFor(() => follow.stdout().includes('line 2') && watch.stdout().includes('line 2'));
    await waitFor(() => created.stdout().includes('created '));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await s.client.cancelTask(queued);
    await s.client.stopTask(held.id);

    const followed = await follow.result;
    assert.equal(followed.code, 3, followed.stderr);
    const lines = followed.stdout.trim().split('\n');
    assert.match(followed.stdout, /info\s+line 2\n/);
    assert.equal(lines.at(-1), '-- cancelled: stopped by user at at 40');

    const watched = await watch.result;
    assert.equal(watched.code, 3, watched.stderr);
    // Not a terminal: plain lines, no progress bar.
    assert.match(watched.stdout, /\[ 40%\] running: at 40/);
    assert.match(watched.stdout, /-- cancelled: stopped by user at at 40\n$/);

    const createdAndWatched = await created.result;
    assert.equal(createdAndWatched.code, 3, createdAndWatched.stderr);
    assert.match(createdAndWatched.stdout, /-- cancelled: cancelled before it started/);
  } finally {
    await s.dispose();
  }
});

async function eventuallyPending(
  client: Awaited<ReturnType<typeof startTestServer>>['client'],
  type: string,
): Promise<string> {
  for (let i = 0; i < 600; i++) {
    const { tasks } = await client.getTasks({ status: 'pending', type });
    if (tasks[0]) return tasks[0].id;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('no pending task appeared');
}

test('watch <id> --json prints one JSON message per line, ending with the terminal status; exit 0', async () => {
  const s = await startTestServer();
  try {
    const task = await s.client.createTask('alpha', { logs: 2, progress: [50] });
    await waitForStatus(s.client, task.id, ['completed']);
    const watched = await runCli(['--url', s.url, '--json', 'watch', task.id]);
    assert.equal(watched.code, 0, watched.stderr);
    const messages = watched.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; status?: string; message?: string });
    // The attempt's first line, the executor's two lines, then the end.
    assert.deepEqual(
      messages.map((m) => m.type),
      ['task_log', 'task_log', 'task_log', 'task_status'],
    );
    assert.equal(messages.at(-1)!.status, 'completed');
    assert.equal(messages.at(-1)!.message, 'done');
  } finally {
    await s.dispose();
  }
});

test('on a terminal, watchTask draws a progress bar with the status, message and ETA, prints log lines above it, and returns the terminal status', async () => {
  const s = await startTestServer();
  try {
    const task = await s.client.createTask('beta', { logs: 1, progress: [25], gate: 'tty' });
    await s.gates.entered('tty');
    // What cli-progress needs of a TTY: isTTY, columns and cursor control.
    const screen = Object.assign(new PassThrough(), {
      isTTY: true,
      columns: 120,
      cursorTo: (_x: number, _y?: number) => true,
      clearLine: (_dir: number) => true,
      moveCursor: (_dx: number, _dy: number) => true,
    });
    let output = '';
    screen.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const ended = watchTask(s.client, task.id, { stream: screen });
    await waitFor(() => output.includes('at 25'));
    s.gates.open('tty');
    assert.equal(await ended, 'completed');
    assert.match(output, /info\s+line 1\n/);
    assert.match(output, /25% \| running \| eta\s+\S+ \| at 25/);
    assert.match(output, /-- completed: done\n$/);
  } finally {
    await s.dispose();
  }
});

async function waitFor(check: () => boolean): Promise<void> {
  // Generous: under a loaded CI machine a CLI child takes seconds to start.
  for (let i = 0; i < 2400 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(check(), 'timed out');
}
