import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { rawPost, startTestServer, waitForStatus, type TestServer } from '../helpers/server.js';
import { createTestSchema, postgresSkipReason } from '../store/pg-harness.js';

const VALID_STATUSES = 'pending, running, completed, failed, cancelled';

test('an invalid status filter is one message per field that lists the allowed values', async () => {
  const s = await startTestServer();
  try {
    const res = await rawPost(
      s.url,
      '/api/tasks',
      JSON.stringify({ pagination: { page: 1, page_size: 10 }, status: 'done' }),
    );
    assert.equal(res.status, 400);
    assert.equal(res.body?.status.code, 40000);
    const fields = (res.body?.status.details as { fields: { path: string; message: string }[] })
      .fields;
    assert.equal(fields.length, 1, JSON.stringify(fields));
    assert.equal(fields[0]!.path, '/status');
    assert.match(fields[0]!.message, new RegExp(`^must be one of ${VALID_STATUSES}`));
    assert.doesNotMatch(res.body!.status.message, /anyOf|allowed values|constant/);
  } finally {
    await s.dispose();
  }
});

test('an invalid cleanup_type names the kinds that are accepted', async () => {
  const s = await startTestServer();
  try {
    const res = await rawPost(s.url, '/api/task/cleanup', JSON.stringify({ cleanup_type: 'old' }));
    assert.equal(res.status, 400);
    assert.equal(
      res.body?.status.message,
      'invalid body: /cleanup_type must be one of completed, failed, cancelled, all',
    );
  } finally {
    await s.dispose();
  }
});

test('a valid JSON body with a __proto__ or constructor.prototype key is refused as prototype pollution, not as invalid JSON', async () => {
  const s = await startTestServer();
  try {
    const proto = await rawPost(
      s.url,
      '/api/task/cleanup',
      '{"cleanup_type":"all","nested":{"__proto__":{"admin":true}}}',
    );
    assert.equal(proto.status, 400);
    assert.equal(proto.body?.status.code, 40001);
    assert.equal(
      proto.body?.status.message,
      'request body has a "__proto__" key, which is refused (prototype pollution)',
    );
    const ctor = await rawPost(
      s.url,
      '/api/task/cleanup',
      '{"cleanup_type":"all","constructor":{"prototype":{"admin":true}}}',
    );
    assert.equal(ctor.body?.status.code, 40001);
    assert.match(ctor.body!.status.message, /"constructor\.prototype" key, which is refused/);
    // Broken JSON is still reported as such.
    const broken = await rawPost(s.url, '/api/task/cleanup', '{"cleanup_type":');
    assert.equal(broken.body?.status.code, 40001);
    assert.match(broken.body!.status.message, /not valid JSON/);
  } finally {
    await s.dispose();
  }
});

/** Every way a task ends leaves a message saying so, not its last progress line. */
async function finalMessages(s: TestServer): Promise<void> {
  const done = await s.client.createTask('alpha', { progress: [50] });
  assert.equal((await waitForStatus(s.client, done.id, ['completed'])).message, 'done');

  const summary = await s.client.createTask('alpha', {
    result: { summary: '12 images in 3 batches' },
  });
  assert.equal(
    (await waitForStatus(s.client, summary.id, ['completed'])).message,
    '12 images in 3 batches',
  );

  const failed = await s.client.createTask('gamma', { progress: [10], fail: 'SD WebUI gone' });
  const failedTask = await waitForStatus(s.client, failed.id, ['failed']);
  assert.equal(failedTask.message, 'failed: SD WebUI gone');
  assert.equal(failedTask.error_message, 'SD WebUI gone');

  const held = await s.client.createTask('beta', { progress: [36], gate: 'final-message' });
  const queued = await s.client.createTask('beta', {});
  await s.gates.entered('final-message');
  await waitForStatus(s.client, held.id, ['running']);
  await s.client.cancelTask(queued.id);
  await s.client.stopTask(held.id);
  // A stop that reaches the run as the cluster's cancel signal (PostgreSQL) carries the reason
  // 'cancelled by user'; either way the message says who stopped it and where it was.
  assert.match((await s.client.getTask(held.id)).message, /^(stopped|cancelled) by user at at 36$/);
  assert.equal((await s.client.getTask(queued.id)).message, 'cancelled before it started');
}

test('a finished task says what happened: done or its summary, failed: <error>, stopped by user at <where>, cancelled before it started (SQLite)', async () => {
  const s = await startTestServer();
  try {
    await finalMessages(s);
  } finally {
    await s.dispose();
  }
});

describe('final messages on PostgreSQL', async () => {
  const skip = await postgresSkipReason();
  test(
    'a finished task says what happened, written by the PostgreSQL hand-off (migration 7)',
    { skip },
    async () => {
      const schema = await createTestSchema();
      after(() => schema.dispose());
      const s = await startTestServer({ config: { db: schema.url } });
      try {
        await finalMessages(s);
      } finally {
        await s.dispose();
      }
    },
  );
});
