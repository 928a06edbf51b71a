import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestServer, waitForStatus } from './helpers/server.js';

test('a created task runs to completion through the HTTP API', async () => {
  const server = await startTestServer();
  try {
    const task = await server.client.createTask('alpha', { ms: 5, progress: [10, 50] });
    assert.equal(task.status === 'pending' || task.status === 'running', true);
    const done = await waitForStatus(server.client, task.id, ['completed']);
    assert.equal(done.progress, 100);
    const { logs } = await server.client.getLogs(task.id);
    assert.ok(logs.length >= 1);
  } finally {
    await server.dispose();
  }
});
