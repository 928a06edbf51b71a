import { parseClusterEvent } from '../../src/cluster/events.js';
import { MIGRATIONS } from '../../src/store/postgres/migrations/index.js';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { PgNotifications } from '../../src/store/postgres/notifications.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import type { Owner } from '../../src/store/store.js';
import { runStoreConformance } from './conformance.js';
import {
  admin,
  createTestSchema,
  postgresSkipReason,
  terminateBackendsBlocking,
  type TestSchema,
} from './pg-harness.js';

const skip = await postgresSkipReason();

// Each test gets its own schema; every instance is a PostgresStore with a pool of its own.
runStoreConformance(
  'postgres',
  {
    async fresh() {
      const schema = await createTestSchema();
      return {
        open: async () => new PostgresStore({ connectionString: schema.url, poolSize: 4 }),
        dispose: () => schema.dispose(),
      };
    },
  },
  { skip },
);

const OWNER: Owner = { node: 'node-a', instance: 'node-a#1' };

describe('PostgresStore specifics', { skip: skip ?? false }, () => {
  let schema: TestSchema;
  const stores: PostgresStore[] = [];
  const open = async (options: { applicationName?: string; onError?: (e: Error) => void } = {}) => {
    const store = new PostgresStore({ connectionString: schema.url, poolSize: 4, ...options });
    stores.push(store);
    await store.migrate();
    return store;
  };
  /** A lane name no other test (or concurrent test run) uses: notifications are database-wide. */
  const lane = () => `lane_${randomBytes(4).toString('hex')}`;

  before(async () => {
    schema = await createTestSchema();
  });
  after(async () => {
    for (const store of stores) await store.close();
    await schema.dispose();
  });

  test('a claim that loses the race on the unique index returns nothing for that lane, and the rest of the transaction survives', async () => {
    const store = await open();
    const [raced, other] = [lane(), lane()];
    const head = await store.createTask({ type: raced, config: {}, priority: 0, max_attempts: 1 });
    await store.createTask({ type: raced, config: {}, priority: 0, max_attempts: 1 });
    const otherTask = await store.createTask({
      type: other,
      config: {},
      priority: 0,
      max_attempts: 1,
    });

    // A writer that ignores the lane lock starts the head of the lane and has not committed yet.
    const intruder = await store.db.pool.connect();
    try {
      await intruder.query('BEGIN');
      await intruder.query(`UPDATE tasks SET status = 'running' WHERE id = $1`, [head.id]);
      const claiming = store.finishAndClaim({
        finishes: [],
        claim: { types: [raced, other], owner: OWNER, leaseMs: 60_000 },
      });
      await new Promise((resolve) => setTimeout(resolve, 300)); // the claim now waits on the index
      await intruder.query('COMMIT');
      const { claimed } = await claiming;
      assert.deepEqual(
        claimed.map((c) => c.task.id),
        [otherTask.id],
      );
    } finally {
      intruder.release();
    }
    const running = await store.listTasks({
      page: 1,
      pageSize: 10,
      type: raced,
      status: 'running',
    });
    assert.deepEqual(
      running.tasks.map((t) => t.id),
      [head.id],
    );
  });

  test('leases are measured by the database clock', async () => {
    const store = await open();
    const type = lane();
    const task = await store.createTask({ type, config: {}, priority: 0, max_attempts: 1 });
    await store.finishAndClaim({
      finishes: [],
      claim: { types: [type], owner: OWNER, leaseMs: 45_000 },
    });
    const [row] = await store.db.rows<{ ms: number }>(
      `SELECT extract(epoch FROM lease_expires_at - clock_timestamp()) * 1000 AS ms FROM tasks WHERE id = $1`,
      [task.id],
    );
    assert.ok(
      Math.abs(Number(row!.ms) - 45_000) < 2_000,
      `lease ends 45 s from the database's now: ${row!.ms}`,
    );
    await store.renewLeases(OWNER, 90_000);
    const [renewed] = await store.db.rows<{ ms: number }>(
      `SELECT extract(epoch FROM lease_expires_at - clock_timestamp()) * 1000 AS ms FROM tasks WHERE id = $1`,
      [task.id],
    );
    assert.ok(Math.abs(Number(renewed!.ms) - 90_000) < 2_000);
  });

  test('concurrent migrations record each version exactly once', async () => {
    const fresh = await createTestSchema();
    const racers = [1, 2, 3].map(
      () => new PostgresStore({ connectionString: fresh.url, poolSize: 2 }),
    );
    try {
      await Promise.all(racers.map((store) => store.migrate()));
      const rows = await racers[0]!.db.rows<{ version: number; n: string }>(
        'SELECT version, count(*) AS n FROM schema_migrations GROUP BY version ORDER BY version',
      );
      assert.deepEqual(
        rows.map((r) => [r.version, Number(r.n)]),
        MIGRATIONS.map((m) => [m.version, 1]),
      );
    } finally {
      for (const store of racers) await store.close();
      await fresh.dispose();
    }
  });

  test('stores in different schemas never see each other', async () => {
    const elsewhere = await createTestSchema();
    const there = new PostgresStore({
      connectionString: elsewhere.connectionString,
      schema: elsewhere.schema,
    });
    try {
      await there.migrate();
      const here = await open();
      const type = lane();
      await there.createTask({ type, config: {}, priority: 0, max_attempts: 1 });
      assert.equal((await here.listTasks({ page: 1, pageSize: 10, type })).total, 0);
      assert.equal((await there.listTasks({ page: 1, pageSize: 10, type })).total, 1);
    } finally {
      await there.close();
      await elsewhere.dispose();
    }
  });

  test('a schema name that is not a plain identifier is refused', () => {
    assert.throws(
      () =>
        new PostgresStore({
          connectionString: schema.connectionString,
          schema: 'x; DROP TABLE tasks',
        }),
    );
    assert.throws(
      () => new PostgresStore({ connectionString: `${schema.connectionString}?schema=Bad-Name` }),
    );
  });

  test('close() can be called twice', async () => {
    const store = new PostgresStore({ connectionString: schema.url });
    await store.ping();
    await store.close();
    await store.close();
  });

  test('creates of one turn share one INSERT; one the database refuses fails alone', async () => {
    const store = await open();
    const type = lane();
    const inputs = [0, 2 ** 40, 1, 2].map((priority) => ({
      type,
      config: { priority },
      priority, // 2^40 does not fit the INTEGER column
      max_attempts: 1,
    }));
    const results = await Promise.allSettled(inputs.map((input) => store.createTask(input)));
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
    );
    assert.match(String((results[1] as PromiseRejectedResult).reason), /out of range/);
    const created = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const listed = await store.listTasks({ page: 1, pageSize: 10, type });
    assert.deepEqual(listed.tasks.map((t) => t.id).sort(), created.map((t) => t.id).sort());
    // The lane still orders them: the highest priority first.
    const { claimed } = await store.finishAndClaim({
      finishes: [],
      claim: { types: [type], owner: OWNER, leaseMs: 60_000 },
    });
    assert.equal(claimed[0]?.task.priority, 2);
  });

  test('dropped pool connections are reported once each, not fatal, and the store keeps working', async () => {
    const errors: Error[] = [];
    const applicationName = `tailor_drop_${randomBytes(4).toString('hex')}`;
    const store = await open({ applicationName, onError: (error) => errors.push(error) });
    // Fill the pool with idle connections, then have the server kill them all.
    await Promise.all([1, 2, 3, 4].map(() => store.db.rows('SELECT pg_sleep(0.05)')));
    const killed = await admin(
      'SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE application_name = $1',
      [applicationName],
    );
    const n = Number(killed.rows[0].n);
    assert.equal(n, 4);
    await waitFor(() => errors.length >= n, 'the pool reports every dropped connection');
    assert.equal(errors.length, n, 'each dead connection is reported once');
    assert.ok(errors.every((error) => /terminating connection|terminated/.test(error.message)));
    await store.ping();
    const task = await store.createTask({ type: lane(), config: {}, priority: 0, max_attempts: 1 });
    assert.equal((await store.getTask(task.id))?.id, task.id);
  });

  test('a read handed a connection that died unnoticed runs again on another one', async () => {
    const applicationName = `tailor_dead_${randomBytes(4).toString('hex')}`;
    const store = await open({ applicationName, onError: () => undefined });
    const task = await store.createTask({ type: lane(), config: {}, priority: 0, max_attempts: 1 });
    await Promise.all([1, 2, 3, 4].map(() => store.db.rows('SELECT pg_sleep(0.05)')));
    // Every pooled connection is now dead, and the pool does not know it yet.
    assert.equal(terminateBackendsBlocking(applicationName), 4);
    const [pinged, got, listed] = await Promise.allSettled([
      store.ping(),
      store.getTask(task.id),
      store.listTasks({ page: 1, pageSize: 10, type: task.type }),
    ]);
    assert.equal(pinged?.status, 'fulfilled');
    assert.equal(got?.status === 'fulfilled' && got.value?.id, task.id);
    assert.equal(listed?.status === 'fulfilled' && listed.value.total, 1);
  });

  test('a write handed a connection that died unnoticed fails; it is not run twice', async () => {
    const applicationName = `tailor_deadw_${randomBytes(4).toString('hex')}`;
    const store = await open({ applicationName, onError: () => undefined });
    const type = lane();
    await Promise.all([1, 2, 3, 4].map(() => store.db.rows('SELECT pg_sleep(0.05)')));
    assert.equal(terminateBackendsBlocking(applicationName), 4);
    const first = await store.createTask({ type, config: {}, priority: 0, max_attempts: 1 }).then(
      () => 'created',
      (error: Error) => error.message,
    );
    assert.match(first, /terminat/);
    // The store works again, and the failed create left nothing behind.
    await store.createTask({ type, config: {}, priority: 0, max_attempts: 1 });
    assert.equal((await store.listTasks({ page: 1, pageSize: 10, type })).total, 1);
  });

  describe('notifications', () => {
    const listeners: PgNotifications[] = [];
    const listen = async (applicationName?: string) => {
      const notifications = new PgNotifications({
        connectionString: schema.url,
        minBackoffMs: 20,
        maxBackoffMs: 200,
        ...(applicationName ? { applicationName } : {}),
        onError: () => undefined,
      });
      listeners.push(notifications);
      await notifications.start();
      return notifications;
    };
    const collect = (subscribe: (cb: (value: string) => void) => unknown) => {
      const seen: string[] = [];
      subscribe((value) => seen.push(value));
      return seen;
    };
    after(async () => {
      for (const listener of listeners) await listener.close();
    });

    test('a task created on one instance wakes a lane listener of another', async () => {
      const listener = await listen();
      const lanes = collect((cb) => listener.onLane(cb));
      const type = lane();
      await (await open()).createTask({ type, config: {}, priority: 0, max_attempts: 1 });
      await waitFor(() => lanes.includes(type), 'lane notification');
    });

    test('a stop request notifies the cancel channel with the task id', async () => {
      const listener = await listen();
      const cancels = collect((cb) => listener.onCancel(cb));
      const store = await open();
      const type = lane();
      const task = await store.createTask({ type, config: {}, priority: 0, max_attempts: 1 });
      await store.finishAndClaim({
        finishes: [],
        claim: { types: [type], owner: OWNER, leaseMs: 60_000 },
      });
      await store.requestCancel(task.id);
      await waitFor(() => cancels.includes(task.id), 'cancel notification');
    });

    test('rerun, release, recovery and a finish that frees a lane each notify the lane', async () => {
      const listener = await listen();
      const lanes = collect((cb) => listener.onLane(cb));
      const store = await open();
      const count = (type: string) => lanes.filter((l) => l === type).length;
      const claimOne = async (type: string, owner: Owner = OWNER, leaseMs = 60_000) =>
        (await store.finishAndClaim({ finishes: [], claim: { types: [type], owner, leaseMs } }))
          .claimed[0]!;

      const released = lane();
      await store.createTask({ type: released, config: {}, priority: 0, max_attempts: 1 });
      await waitFor(() => count(released) === 1, 'create');
      const held = await claimOne(released);
      await store.release([{ taskId: held.task.id, token: held.token, message: 'bye' }]);
      await waitFor(() => count(released) === 2, 'release');

      const finished = lane();
      const task = await store.createTask({
        type: finished,
        config: {},
        priority: 0,
        max_attempts: 1,
      });
      const done = await claimOne(finished);
      await store.finishAndClaim({
        finishes: [{ taskId: done.task.id, token: done.token, status: 'completed' }],
      });
      await waitFor(() => count(finished) === 2, 'finish frees the lane');
      await store.rerun(task.id);
      await waitFor(() => count(finished) === 3, 'rerun');

      const recovered = lane();
      await store.createTask({ type: recovered, config: {}, priority: 0, max_attempts: 2 });
      await claimOne(recovered, { node: 'node-z', instance: 'node-z#1' });
      await store.recoverOrphans({ node: 'node-z', instance: 'node-z#2' });
      await waitFor(() => count(recovered) === 2, 'recovery');
    });

    test('a hand-off sends each of its events once, in order; other writes still send theirs', async () => {
      const listener = await listen();
      const payloads = collect((cb) => listener.onEvent(cb));
      const store = await open();
      const [one, two] = [lane(), lane()];
      const first = await store.createTask({ type: one, config: {}, priority: 0, max_attempts: 1 });
      const next = await store.createTask({ type: one, config: {}, priority: 0, max_attempts: 1 });
      const other = await store.createTask({ type: two, config: {}, priority: 0, max_attempts: 1 });
      const ids = new Set([first.id, next.id, other.id]);
      const events = () =>
        payloads
          .map((payload) => parseClusterEvent(payload))
          .filter((e) => e !== null && e.schema === schema.schema && ids.has(e.id))
          .map((e) => {
            if (e!.kind === 'log') return `${e!.id} log ${e!.firstSeq}-${e!.lastSeq}`;
            if (e!.kind === 'deleted') return `${e!.id} deleted`;
            return `${e!.id} ${e!.kind} v${e!.version} ${e!.fields?.status ?? ''}`;
          });
      await waitFor(() => events().length === 3, 'the three creations');

      const claim = { types: [one, two], owner: OWNER, leaseMs: 60_000 };
      const opened = await store.finishAndClaim({ finishes: [], claim });
      const held = opened.claimed.find((c) => c.task.id === first.id)!;
      await store.updateProgress([
        { taskId: first.id, token: held.token, progress: 50, message: 'half' },
      ]);
      await store.finishAndClaim({
        finishes: [{ taskId: first.id, token: held.token, status: 'completed' }],
        claim,
      });
      const expected = [
        `${first.id} created v1 pending`,
        `${next.id} created v1 pending`,
        `${other.id} created v1 pending`,
        // One call claims both lanes: their transitions, then their first log lines.
        `${first.id} status v2 running`,
        `${other.id} status v2 running`,
        `${first.id} log 1-1`,
        `${other.id} log 1-1`,
        // A write outside the hand-off: the trigger still speaks.
        `${first.id} status v3 running`,
        // The finish and the claim of the lane's next task, in one call.
        `${first.id} status v4 completed`,
        `${next.id} status v2 running`,
        `${next.id} log 1-1`,
      ];
      await waitFor(() => events().length >= expected.length, 'every event of the hand-offs');
      await new Promise((resolve) => setTimeout(resolve, 100)); // nothing more may follow
      assert.deepEqual(events(), expected);
    });

    test('a finish that hands its lane to the next task in the same call does not wake others', async () => {
      const listener = await listen();
      const lanes = collect((cb) => listener.onLane(cb));
      const store = await open();
      const type = lane();
      const marker = lane();
      await store.createTask({ type, config: {}, priority: 0, max_attempts: 1 });
      await store.createTask({ type, config: {}, priority: 0, max_attempts: 1 });
      const claim = { types: [type], owner: OWNER, leaseMs: 60_000 };
      const first = (await store.finishAndClaim({ finishes: [], claim })).claimed[0]!;
      const handed = await store.finishAndClaim({
        finishes: [{ taskId: first.task.id, token: first.token, status: 'completed' }],
        claim,
      });
      assert.equal(handed.claimed.length, 1);
      // Notifications arrive in commit order: once the marker is seen, nothing more is coming.
      await store.createTask({ type: marker, config: {}, priority: 0, max_attempts: 1 });
      await waitFor(() => lanes.includes(marker), 'marker');
      assert.equal(lanes.filter((l) => l === type).length, 2, 'only the two creations');
    });

    test('a finish whose call tried its lane and found it empty announces nothing; one that did not try it does', async () => {
      const listener = await listen();
      const lanes = collect((cb) => listener.onLane(cb));
      const store = await open();
      const [tried, untried, marker] = [lane(), lane(), lane()];
      const runOne = async (type: string) => {
        await store.createTask({ type, config: {}, priority: 0, max_attempts: 1 });
        const claim = { types: [type], owner: OWNER, leaseMs: 60_000 };
        return (await store.finishAndClaim({ finishes: [], claim })).claimed[0]!;
      };
      const a = await runOne(tried);
      const b = await runOne(untried);
      const emptied = await store.finishAndClaim({
        finishes: [
          { taskId: a.task.id, token: a.token, status: 'completed' },
          { taskId: b.task.id, token: b.token, status: 'completed' },
        ],
        claim: { types: [tried], owner: OWNER, leaseMs: 60_000 },
      });
      assert.equal(emptied.finished.length, 2);
      assert.equal(emptied.claimed.length, 0);
      // Notifications arrive in commit order: once the marker is seen, nothing more is coming.
      await store.createTask({ type: marker, config: {}, priority: 0, max_attempts: 1 });
      await waitFor(() => lanes.includes(marker), 'marker');
      assert.equal(lanes.filter((l) => l === tried).length, 1, 'only its creation');
      assert.equal(lanes.filter((l) => l === untried).length, 2, 'its creation and its freeing');
    });

    test('the listener reconnects after its connection drops and listens again', async () => {
      const applicationName = `tailor_listen_${randomBytes(4).toString('hex')}`;
      const listener = await listen(applicationName);
      let reconnects = 0;
      listener.onReconnect(() => reconnects++);
      const lanes = collect((cb) => listener.onLane(cb));
      await admin(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
        [applicationName],
      );
      await waitFor(() => reconnects === 1, 'reconnected');
      const type = lane();
      await (await open()).createTask({ type, config: {}, priority: 0, max_attempts: 1 });
      await waitFor(() => lanes.includes(type), 'a notification after the reconnect');
    });

    test('a throwing listener does not stop the others', async () => {
      const listener = await listen();
      listener.onLane(() => {
        throw new Error('listener bug');
      });
      const lanes = collect((cb) => listener.onLane(cb));
      const type = lane();
      await (await open()).createTask({ type, config: {}, priority: 0, max_attempts: 1 });
      await waitFor(() => lanes.includes(type), 'the second listener still hears it');
    });
  });
});

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
