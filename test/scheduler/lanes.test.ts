import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startTestServer, eventually, waitForStatus } from '../helpers/server.js';

describe('lanes', () => {
  test('tasks of one type run one at a time, in creation order', async () => {
    const s = await startTestServer();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 8; i++) ids.push((await s.client.createTask('alpha', { ms: 10 })).id);
      for (const id of ids) await waitForStatus(s.client, id, ['completed']);
      assert.deepEqual(s.recorder.startedIds('alpha'), ids);
      assert.equal(s.recorder.maxConcurrentPerType.get('alpha'), 1);
    } finally {
      await s.dispose();
    }
  });

  test('a higher priority runs first within its lane, then creation order', async () => {
    const s = await startTestServer();
    try {
      const blocker = await s.client.createTask('alpha', { gate: 'hold' });
      await s.gates.entered('hold');
      const a = await s.client.createTask('alpha', { label: 'a' });
      const b = await s.client.createTask('alpha', { label: 'b' }, { priority: 5 });
      const c = await s.client.createTask('alpha', { label: 'c' });
      const d = await s.client.createTask('alpha', { label: 'd' }, { priority: 5 });
      s.gates.open('hold');
      for (const t of [a, b, c, d]) await waitForStatus(s.client, t.id, ['completed']);
      assert.deepEqual(s.recorder.startedIds('alpha'), [blocker.id, b.id, d.id, a.id, c.id]);
    } finally {
      await s.dispose();
    }
  });

  test('tasks of different types run at the same time', async () => {
    const s = await startTestServer();
    try {
      await s.client.createTask('alpha', { gate: 'a' });
      await s.client.createTask('beta', { gate: 'b' });
      await s.client.createTask('gamma', { gate: 'c' });
      // All three executors are inside their gates at once: no lane waited for another.
      await Promise.all([s.gates.entered('a'), s.gates.entered('b'), s.gates.entered('c')]);
      s.gates.open('a');
      s.gates.open('b');
      s.gates.open('c');
    } finally {
      await s.dispose();
    }
  });

  test('when tasks end, the next task of every idle lane starts without any poll', async () => {
    // The safety poll is an hour here: anything that starts did so on a signal.
    const s = await startTestServer();
    try {
      await s.client.createTask('alpha', { gate: 'alpha-1' });
      await s.client.createTask('beta', { gate: 'beta-1' });
      await s.client.createTask('gamma', { gate: 'gamma-1' });
      await Promise.all([
        s.gates.entered('alpha-1'),
        s.gates.entered('beta-1'),
        s.gates.entered('gamma-1'),
      ]);
      await s.client.createTask('alpha', { gate: 'alpha-2' });
      await s.client.createTask('beta', { gate: 'beta-2' });
      const gamma2 = await s.client.createTask('gamma', { label: 'gamma-2' });
      s.gates.open('beta-1');
      s.gates.open('gamma-1');
      // Both freed lanes move on while alpha-1 still holds its lane.
      await s.gates.entered('beta-2');
      await waitForStatus(s.client, gamma2.id, ['completed']);
      assert.equal(s.recorder.startedIds('alpha').length, 1);
      s.gates.open('alpha-1');
      await s.gates.entered('alpha-2');
      s.gates.open('alpha-2');
      s.gates.open('beta-2');
    } finally {
      await s.dispose();
    }
  });

  test('a lane its hand-off found empty is not asked again until work arrives', async () => {
    const s = await startTestServer();
    try {
      const calls: { lanes: readonly string[]; finished: number; claimed: number }[] = [];
      const finishAndClaim = s.store.finishAndClaim.bind(s.store);
      s.store.finishAndClaim = async (request) => {
        const result = await finishAndClaim(request);
        calls.push({
          lanes: request.claim?.types ?? [],
          finished: result.finished.length,
          claimed: result.claimed.length,
        });
        return result;
      };
      for (let round = 0; round < 3; round++) {
        const task = await s.client.createTask('alpha', { ms: 5 });
        await waitForStatus(s.client, task.id, ['completed']);
        await new Promise((resolve) => setTimeout(resolve, 50)); // time for a stray retry
      }
      const idle = calls.filter((c) => c.finished === 0 && c.claimed === 0);
      assert.deepEqual(idle, [], 'every store call finished or claimed something');
      assert.equal(calls.filter((c) => c.claimed === 1).length, 3);
      assert.equal(calls.filter((c) => c.finished === 1).length, 3);
    } finally {
      await s.dispose();
    }
  });

  test('listing and polling while tasks start never changes their status', async () => {
    const s = await startTestServer();
    try {
      let stop = false;
      const pollers = Array.from({ length: 4 }, async () => {
        while (!stop) {
          const { tasks } = await s.client.getTasks({ page_size: 100 });
          for (const t of tasks.slice(0, 5)) await s.client.getStatus(t.id);
        }
      });
      const ids: string[] = [];
      for (let i = 0; i < 40; i++)
        ids.push((await s.client.createTask(['alpha', 'beta', 'gamma'][i % 3]!, { ms: 3 })).id);
      for (const id of ids) await waitForStatus(s.client, id, ['completed', 'failed']);
      stop = true;
      await Promise.all(pollers);
      const { tasks } = await s.client.getTasks({ page_size: 100 });
      assert.equal(tasks.filter((t) => t.status !== 'completed').length, 0);
    } finally {
      await s.dispose();
    }
  });

  test('concurrent creates from many clients never run two tasks of one type at once', async () => {
    const s = await startTestServer();
    try {
      const types = ['alpha', 'beta', 'gamma'];
      const created = await Promise.all(
        Array.from({ length: 20 }, async (_, c) => {
          const ids: string[] = [];
          for (let i = 0; i < 8; i++)
            ids.push((await s.client.createTask(types[(c + i) % 3]!, { ms: 2 })).id);
          return ids;
        }),
      );
      for (const id of created.flat()) await waitForStatus(s.client, id, ['completed']);
      for (const type of types) assert.equal(s.recorder.maxConcurrentPerType.get(type), 1, type);
      assert.equal(s.recorder.runs.length, 160);
    } finally {
      await s.dispose();
    }
  });

  test('the database itself refuses a second running task of one type', async () => {
    const s = await startTestServer();
    try {
      const store = s.store as unknown as {
        db: { raw: { prepare(sql: string): { run(...a: unknown[]): unknown } } };
      };
      const insert = (id: string) =>
        store.db.raw
          .prepare(
            `INSERT INTO tasks (id, type, status, config, max_attempts, queue_seq, created_at, updated_at)
             VALUES (?, 'zeta', 'running', '{}', 1, 1, 'x', 'x')`,
          )
          .run(id);
      insert('first');
      assert.throws(() => insert('second'), /UNIQUE/);
    } finally {
      await s.dispose();
    }
  });
});

describe('cancellation and stopping', () => {
  test('a cancelled pending task never starts', async () => {
    const s = await startTestServer();
    try {
      await s.client.createTask('alpha', { gate: 'hold' });
      await s.gates.entered('hold');
      const queued = await s.client.createTask('alpha', { label: 'queued' });
      const cancelled = await s.client.cancelTask(queued.id);
      assert.equal(cancelled.status, 'cancelled');
      const after = await s.client.createTask('alpha', { label: 'after' });
      s.gates.open('hold');
      await waitForStatus(s.client, after.id, ['completed']);
      assert.ok(!s.recorder.startedIds().includes(queued.id));
      assert.equal((await s.client.getTask(queued.id)).status, 'cancelled');
    } finally {
      await s.dispose();
    }
  });

  test('the next task of a lane waits until a stopped executor has returned', async () => {
    const s = await startTestServer();
    try {
      const slow = await s.client.createTask('alpha', { gate: 'never', abortDelayMs: 150 });
      await s.gates.entered('never');
      const next = await s.client.createTask('alpha', { label: 'next' });
      const stopped = await s.client.stopTask(slow.id);
      assert.equal(stopped.status, 'cancelled');
      await waitForStatus(s.client, next.id, ['completed']);
      const [first, second] = s.recorder.runs;
      assert.ok(
        first!.end !== null && second!.start >= first!.end,
        'the next task started before the stopped one returned',
      );
    } finally {
      await s.dispose();
    }
  });

  test('a late executor result cannot change a cancelled task, and the lane moves on after the grace period', async () => {
    const s = await startTestServer({ config: { graceMs: 100 } });
    try {
      const stubborn = await s.client.createTask('alpha', { gate: 'late', ignoreAbort: true });
      await s.gates.entered('late');
      const next = await s.client.createTask('alpha', { label: 'next' });
      const stopped = await s.client.stopTask(stubborn.id);
      assert.equal(stopped.status, 'cancelled');
      await waitForStatus(s.client, next.id, ['completed']);
      s.gates.open('late'); // the stubborn executor now returns a "successful" result
      await eventually(
        () => s.recorder.runs[0]!.end !== null,
        5_000,
        'the stubborn executor to return',
      );
      await new Promise((r) => setTimeout(r, 50));
      const final = await s.client.getTask(stubborn.id);
      assert.equal(final.status, 'cancelled');
      assert.match(final.error_message ?? '', /stopped by user/);
    } finally {
      await s.dispose();
    }
  });

  test('stop and cancel refuse tasks that are not in a stoppable state', async () => {
    const s = await startTestServer();
    try {
      const t = await s.client.createTask('alpha', {});
      await waitForStatus(s.client, t.id, ['completed']);
      await assert.rejects(
        s.client.stopTask(t.id),
        (e: { httpStatus: number }) => e.httpStatus === 409,
      );
      await assert.rejects(
        s.client.cancelTask(t.id),
        (e: { httpStatus: number }) => e.httpStatus === 409,
      );
      await assert.rejects(
        s.client.stopTask('nope'),
        (e: { httpStatus: number }) => e.httpStatus === 404,
      );
    } finally {
      await s.dispose();
    }
  });

  test('cancel of a running task aborts its executor', async () => {
    const s = await startTestServer();
    try {
      const t = await s.client.createTask('beta', { gate: 'x' });
      await s.gates.entered('x');
      const after = await s.client.cancelTask(t.id);
      assert.equal(after.status, 'cancelled');
      assert.equal(s.recorder.runs[0]!.aborted, true);
    } finally {
      await s.dispose();
    }
  });
});

describe('failures', () => {
  test('an executor that throws synchronously or rejects fails its task and the lane moves on', async () => {
    const s = await startTestServer();
    try {
      const sync = await s.client.createTask('alpha', { throwSync: true });
      const rejects = await s.client.createTask('alpha', { fail: 'disk on fire' });
      const after = await s.client.createTask('alpha', {});
      assert.equal(
        (await waitForStatus(s.client, sync.id, ['failed'])).error_message,
        'thrown synchronously',
      );
      assert.equal(
        (await waitForStatus(s.client, rejects.id, ['failed'])).error_message,
        'disk on fire',
      );
      await waitForStatus(s.client, after.id, ['completed']);
    } finally {
      await s.dispose();
    }
  });

  test('a task whose stored config no longer validates fails at start without blocking its lane', async () => {
    const s = await startTestServer();
    try {
      const bad = await s.store.createTask({
        type: 'gamma',
        config: { ms: 'soon' },
        priority: 0,
        max_attempts: 1,
      });
      s.scheduler.wake('gamma');
      const failed = await waitForStatus(s.client, bad.id, ['failed']);
      assert.match(failed.error_message ?? '', /\/config\/ms must be integer/);
      const next = await s.client.createTask('gamma', {});
      await waitForStatus(s.client, next.id, ['completed']);
    } finally {
      await s.dispose();
    }
  });

  test('an unknown task type is refused with 501 and nothing is queued', async () => {
    const s = await startTestServer();
    try {
      await assert.rejects(
        s.client.createTask('classify', {}),
        (e: { httpStatus: number; code: number }) => e.httpStatus === 501 && e.code === 50100,
      );
      assert.equal((await s.client.getTasks()).pagination.total, 0);
    } finally {
      await s.dispose();
    }
  });

  test('a bad config is a 400 naming the field and the process stays healthy', async () => {
    const s = await startTestServer();
    try {
      await assert.rejects(
        s.client.createTask('alpha', { ms: 'ten' }),
        (e: { httpStatus: number; message: string }) =>
          e.httpStatus === 400 && e.message.includes('/config/ms'),
      );
      await assert.rejects(
        s.client.createTask('alpha', { nonsense: { deep: [1, 2, { x: null }] } }),
        (e: { httpStatus: number; message: string }) =>
          e.httpStatus === 400 && e.message.includes('/config/nonsense'),
      );
      const health = await fetch(`${s.url}/health`);
      assert.equal(health.status, 200);
    } finally {
      await s.dispose();
    }
  });
});

describe('progress, logs and results', () => {
  test('progress above 100 is clamped, never dropped, and never decreases', async () => {
    const s = await startTestServer();
    try {
      const seen: number[] = [];
      s.events.subscribe((e) => {
        if (e.kind === 'status' && e.task.status === 'running') seen.push(e.task.progress);
      });
      const t = await s.client.createTask('alpha', { progress: [30, 150, 40], ms: 60 });
      const done = await waitForStatus(s.client, t.id, ['completed']);
      assert.equal(done.progress, 100);
      assert.ok(seen.includes(100), `progress 150 should show as 100, saw ${seen.join(',')}`);
      for (let i = 1; i < seen.length; i++)
        assert.ok(seen[i]! >= seen[i - 1]!, `progress went down: ${seen.join(',')}`);
      const { logs } = await s.client.getLogs(t.id);
      assert.ok(logs.some((l) => l.level === 'warn' && l.message.includes('clamped')));
    } finally {
      await s.dispose();
    }
  });

  test('log lines are stored in order with increasing seq and can be paged', async () => {
    const s = await startTestServer();
    try {
      const t = await s.client.createTask('beta', { logs: 500 });
      await waitForStatus(s.client, t.id, ['completed']);
      const first = await s.client.getLogs(t.id, { limit: 300 });
      const rest = await s.client.getLogs(t.id, { after_seq: first.logs.at(-1)!.seq, limit: 1000 });
      const all = [...first.logs, ...rest.logs];
      assert.deepEqual(
        all.map((l) => l.seq),
        all.map((_, i) => i + 1),
      );
      const lines = all.filter((l) => l.message.startsWith('line ')).map((l) => l.message);
      assert.deepEqual(
        lines,
        Array.from({ length: 500 }, (_, i) => `line ${i + 1}`),
      );
    } finally {
      await s.dispose();
    }
  });

  test('secrets in a config are redacted in responses and scrubbed from log lines', async () => {
    const s = await startTestServer();
    try {
      const cookie = 'PHPSESSID=supersecretvalue123';
      const t = await s.client.createTask('alpha', { cookie });
      assert.equal(t.config.cookie, '[redacted]');
      await waitForStatus(s.client, t.id, ['completed']);
      const listed = (await s.client.getTasks()).tasks[0]!;
      assert.equal(listed.config.cookie, '[redacted]');
      assert.deepEqual(listed.result, { done: true, cookie_seen: true });
      const raw = await fetch(`${s.url}/api/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      assert.ok(!(await raw.text()).includes('supersecret'));
    } finally {
      await s.dispose();
    }
  });
});

describe('re-run, delete and cleanup', () => {
  test('start re-runs a finished task as a new attempt and keeps its logs; pending is a no-op, running a 409', async () => {
    const s = await startTestServer();
    try {
      const t = await s.client.createTask('alpha', { fail: 'first time' });
      await waitForStatus(s.client, t.id, ['failed']);
      const logsBefore = (await s.client.getLogs(t.id)).logs.length;
      const requeued = await s.client.startTask(t.id);
      assert.equal(requeued.error_message, null);
      await waitForStatus(s.client, t.id, ['failed']);
      assert.ok((await s.client.getLogs(t.id)).logs.length > logsBefore);

      const held = await s.client.createTask('beta', { gate: 'h' });
      await s.gates.entered('h');
      const waiting = await s.client.createTask('beta', {});
      assert.equal((await s.client.startTask(waiting.id)).status, 'pending');
      await assert.rejects(
        s.client.startTask(held.id),
        (e: { httpStatus: number }) => e.httpStatus === 409,
      );
      s.gates.open('h');
      await waitForStatus(s.client, waiting.id, ['completed']);
    } finally {
      await s.dispose();
    }
  });

  test('deleting a running task stops its executor first', async () => {
    const s = await startTestServer();
    try {
      const t = await s.client.createTask('alpha', { gate: 'del' });
      await s.gates.entered('del');
      const next = await s.client.createTask('alpha', {});
      await s.client.deleteTask(t.id);
      assert.equal(s.recorder.runs[0]!.aborted, true);
      await assert.rejects(
        s.client.getTask(t.id),
        (e: { httpStatus: number }) => e.httpStatus === 404,
      );
      await waitForStatus(s.client, next.id, ['completed']);
    } finally {
      await s.dispose();
    }
  });

  test('cleanup "all" removes only finished tasks; pending and running ones carry on', async () => {
    const s = await startTestServer();
    try {
      const done = await s.client.createTask('beta', {});
      const failed = await s.client.createTask('gamma', { fail: 'x' });
      await waitForStatus(s.client, done.id, ['completed']);
      await waitForStatus(s.client, failed.id, ['failed']);
      const running = await s.client.createTask('alpha', { gate: 'c' });
      await s.gates.entered('c');
      const pending = await s.client.createTask('alpha', {});
      const result = await s.client.cleanup('all');
      assert.equal(result.cleaned_count, 2);
      assert.equal((await s.client.getTask(running.id)).status, 'running');
      assert.equal((await s.client.getTask(pending.id)).status, 'pending');
      assert.equal(s.recorder.runs.find((r) => r.id === running.id)!.aborted, false);
      s.gates.open('c');
      await waitForStatus(s.client, pending.id, ['completed']);
    } finally {
      await s.dispose();
    }
  });

  test("delete_files removes only the task's own output folder, never paths its result names", async () => {
    const s = await startTestServer();
    const { mkdtempSync, writeFileSync, existsSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const outside = mkdtempSync(join(tmpdir(), 'tailor-outside-'));
    const victim = join(outside, 'precious.txt');
    writeFileSync(victim, 'keep me');
    try {
      const t = await s.client.createTask('alpha', {
        writeFile: 'out.txt',
        result: { files: [victim, '../../precious.txt'] },
      });
      await waitForStatus(s.client, t.id, ['completed']);
      const own = join(s.dataDir, 'outputs', t.id, 'out.txt');
      assert.ok(existsSync(own));
      await s.client.deleteTask(t.id, { deleteFiles: true });
      assert.ok(!existsSync(own));
      assert.ok(existsSync(victim));
    } finally {
      await s.dispose();
    }
  });

  test('a deletion is announced only once its output folder is gone, for delete and for cleanup', async () => {
    const s = await startTestServer();
    const { existsSync } = await import('node:fs');
    try {
      const deleted = await s.client.createTask('alpha', { writeFile: 'out.txt' });
      const cleaned = await s.client.createTask('beta', { writeFile: 'out.txt' });
      for (const t of [deleted, cleaned]) await waitForStatus(s.client, t.id, ['completed']);
      const folders = new Map([deleted, cleaned].map((t) => [t.id, s.tasks.outputDirOf(t.id)]));
      for (const folder of folders.values()) assert.ok(existsSync(folder));
      // What a subscriber would see at the moment each deletion is announced.
      const seenAtAnnouncement = new Map<string, boolean>();
      const unsubscribe = s.events.subscribe((event) => {
        const folder = event.kind === 'deleted' ? folders.get(event.taskId) : undefined;
        if (event.kind === 'deleted' && folder)
          seenAtAnnouncement.set(event.taskId, existsSync(folder));
      });
      try {
        await s.client.deleteTask(deleted.id, { deleteFiles: true });
        await s.tasks.cleanup('completed', { deleteFiles: true });
      } finally {
        unsubscribe();
      }
      assert.deepEqual(
        Object.fromEntries(seenAtAnnouncement),
        { [deleted.id]: false, [cleaned.id]: false },
        'the folder still existed when its deletion was announced',
      );
    } finally {
      await s.dispose();
    }
  });
});
