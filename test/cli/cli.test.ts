import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { startTestServer, waitForStatus } from '../helpers/server.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

async function tailor(
  url: string,
  ...args: string[]
): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [
      '--import',
      'tsx',
      CLI,
      '--url',
      url,
      ...args,
    ]);
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

test('the CLI creates, lists, inspects, follows and cancels tasks through the API', async () => {
  const s = await startTestServer();
  try {
    const created = await tailor(
      s.url,
      '--json',
      'create',
      'alpha',
      '--config',
      '{"logs":3}',
      '--priority',
      '2',
    );
    assert.equal(created.code, 0, created.stderr);
    const task = JSON.parse(created.stdout) as { id: string; priority: number };
    assert.equal(task.priority, 2);
    await waitForStatus(s.client, task.id, ['completed']);

    const list = await tailor(s.url, 'list', '--status', 'completed');
    assert.match(list.stdout, new RegExp(`${task.id}\\s+alpha\\s+completed\\s+100%`));
    assert.match(list.stdout, /1 of 1/);

    const status = await tailor(s.url, 'status', task.id);
    assert.match(status.stdout, /completed\s+100%/);

    const logs = await tailor(s.url, 'logs', task.id);
    assert.match(logs.stdout, /info\s+line 3/);

    const held = await s.client.createTask('beta', { gate: 'cli' });
    await s.gates.entered('cli');
    const waiting = await s.client.createTask('beta', {});
    const cancelled = await tailor(s.url, '--json', 'cancel', waiting.id);
    assert.equal((JSON.parse(cancelled.stdout) as { status: string }).status, 'cancelled');
    const stopped = await tailor(s.url, 'stop', held.id);
    assert.match(stopped.stdout, /cancelled/);

    const cleanup = await tailor(s.url, 'cleanup', 'cancelled');
    assert.match(cleanup.stdout, /cleaned 2 cancelled task\(s\)/);
  } finally {
    await s.dispose();
  }
});

test('the CLI reports API errors with their code and exits non-zero', async () => {
  const s = await startTestServer();
  try {
    const missing = await tailor(s.url, 'status', 'no-such-task');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /task no-such-task not found \(code 40400\)/);
    const bad = await tailor(s.url, 'create', 'alpha', '--config', '{"ms":"soon"}');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /\/config\/ms must be integer/);
  } finally {
    await s.dispose();
  }
});
