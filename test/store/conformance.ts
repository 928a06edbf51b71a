/**
 * The store conformance suite: every `Store` implementation must pass it (like River's
 * `riverdrivertest`). Each test gets a fresh, empty, migrated database; `open()` gives further
 * independent instances (separate connections, separate processes' worth of state) onto the same
 * database, for races.
 *
 *   runStoreConformance('sqlite', { fresh: async () => ({ open, dispose }) });
 *
 * Leases are real and short (no injected clock): the PostgreSQL store measures them with the
 * database clock, so the suite sleeps past them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  isTaskId,
  startedAttemptMessage,
  TERMINAL_STATUSES,
  type JsonObject,
  type JsonValue,
  type Task,
  type TaskStatus,
  type TerminalStatus,
} from '../../src/domain/task.js';
import type {
  ClaimedTask,
  FinishAndClaimResult,
  NewTask,
  Owner,
  Store,
} from '../../src/store/store.js';

export interface StoreDatabase {
  /** A new, independent store instance on this database (not yet migrated). */
  open(): Promise<Store>;
  /** Remove the database. Every instance has been closed by then. */
  dispose(): Promise<void>;
}

export interface StoreHarness {
  /** A new, empty database that no other test uses. */
  fresh(): Promise<StoreDatabase>;
}

export interface ConformanceOptions {
  /** Skip the whole suite, with this reason (e.g. the database server is unreachable). */
  skip?: string | undefined;
}

interface Ctx {
  /** A migrated store on the test's database. */
  store: Store;
  /** Another migrated instance on the same database. */
  open(): Promise<Store>;
  /** Another instance, not migrated. */
  openUnmigrated(): Promise<Store>;
}

const NODE_A: Owner = { node: 'node-a', instance: 'node-a#1' };
const NODE_A_RESTARTED: Owner = { node: 'node-a', instance: 'node-a#2' };
const NODE_B: Owner = { node: 'node-b', instance: 'node-b#1' };

const LONG_LEASE_MS = 60_000;
const SHORT_LEASE_MS = 100;
/** Comfortably past SHORT_LEASE_MS, so an expired lease is expired by any clock involved. */
const PAST_SHORT_LEASE_MS = 350;

export function runStoreConformance(
  name: string,
  harness: StoreHarness,
  options: ConformanceOptions = {},
): void {
  /** One test on its own fresh database; every instance it opened is closed afterwards. */
  function it(title: string, body: (ctx: Ctx) => Promise<void>): void {
    test(title, async () => {
      const database = await harness.fresh();
      const opened: Store[] = [];
      const openUnmigrated = async (): Promise<Store> => {
        const store = await database.open();
        opened.push(store);
        return store;
      };
      const open = async (): Promise<Store> => {
        const store = await openUnmigrated();
        await store.migrate();
        return store;
      };
      try {
        await body({ store: await open(), open, openUnmigrated });
      } finally {
        for (const store of opened) await store.close().catch(() => undefined);
        await database.dispose();
      }
    });
  }

  describe(`Store conformance: ${name}`, { skip: options.skip ?? false }, () => {
    describe('migrations', () => {
      it('migrate() twice is harmless and keeps the data', async ({ store }) => {
        const task = await create(store);
        await store.migrate();
        await store.migrate();
        assert.deepEqual(await store.getTask(task.id), task);
      });

      it('several instances migrating one empty database at once all succeed', async (ctx) => {
        const stores = await Promise.all([1, 2, 3, 4].map(() => ctx.openUnmigrated()));
        await Promise.all(stores.map((store) => store.migrate()));
        for (const store of stores) await create(store);
        const { total } = await ctx.store.listTasks({ page: 1, pageSize: 10 });
        assert.equal(total, 4);
      });

      it('ping answers', async ({ store }) => {
        await store.ping();
      });
    });

    describe('create, get and list', () => {
      it('a created task is pending, unclaimed, with its input and nothing else', async ({
        store,
      }) => {
        const task = await store.createTask({
          type: 'crawl',
          config: { word: 'landscape', limit: 3 },
          priority: 7,
          max_attempts: 3,
        });
        assert.ok(isTaskId(task.id), `URL-safe id: ${task.id}`);
        assert.equal(task.type, 'crawl');
        assert.equal(task.status, 'pending');
        assert.equal(task.progress, 0);
        assert.equal(task.message, '');
        assert.deepEqual(task.config, { word: 'landscape', limit: 3 });
        assert.equal(task.result, null);
        assert.equal(task.error_message, null);
        assert.equal(task.priority, 7);
        assert.equal(task.attempts, 0);
        assert.equal(task.max_attempts, 3);
        assert.equal(task.owner, null);
        assert.equal(task.started_at, null);
        assert.equal(task.completed_at, null);
        assertIso(task.created_at);
        assertIso(task.updated_at);
        assert.equal(typeof task.version, 'number');
        assert.deepEqual(await store.getTask(task.id), task);
      });

      it('ids are unique', async ({ store }) => {
        const ids = new Set<string>();
        for (let i = 0; i < 50; i++) ids.add((await create(store)).id);
        assert.equal(ids.size, 50);
      });

      it('getTask of an unknown id is null', async ({ store }) => {
        assert.equal(await store.getTask('no-such-task'), null);
      });

      it('tasks are listed newest first', async ({ store }) => {
        const created = [];
        for (const type of ['generate', 'crawl', 'tag', 'generate', 'crawl']) {
          created.push((await create(store, type)).id);
        }
        const { tasks, total } = await store.listTasks({ page: 1, pageSize: 10 });
        assert.equal(total, 5);
        assert.deepEqual(
          tasks.map((t) => t.id),
          created.reverse(),
        );
      });

      it('the list filters by type, by status, and by both', async ({ store }) => {
        const g1 = await create(store, 'generate');
        const g2 = await create(store, 'generate');
        const c1 = await create(store, 'crawl');
        const c2 = await create(store, 'crawl');
        await claimOne(store, 'generate'); // g1 runs
        await store.cancelPending(c2.id, 'not needed');

        const ids = async (query: { type?: string; status?: TaskStatus }): Promise<string[]> =>
          (await store.listTasks({ page: 1, pageSize: 10, ...query })).tasks.map((t) => t.id);
        assert.deepEqual(await ids({ type: 'generate' }), [g2.id, g1.id]);
        assert.deepEqual(await ids({ status: 'pending' }), [c1.id, g2.id]);
        assert.deepEqual(await ids({ status: 'running' }), [g1.id]);
        assert.deepEqual(await ids({ type: 'crawl', status: 'cancelled' }), [c2.id]);
        assert.deepEqual(await ids({ type: 'crawl', status: 'running' }), []);
        assert.deepEqual(await ids({ type: 'tag' }), []);
        const filtered = await store.listTasks({
          page: 1,
          pageSize: 10,
          type: 'crawl',
          status: 'pending',
        });
        assert.equal(filtered.total, 1);
      });

      it('pages split the newest-first list and total counts every match', async ({ store }) => {
        const created: string[] = [];
        for (let i = 0; i < 5; i++) created.push((await create(store)).id);
        const newest = [...created].reverse();
        const page = async (n: number) => store.listTasks({ page: n, pageSize: 2 });
        const [p1, p2, p3] = [await page(1), await page(2), await page(3)];
        assert.deepEqual(
          [p1, p2, p3].map((p) => p.total),
          [5, 5, 5],
        );
        assert.deepEqual(
          [...p1.tasks, ...p2.tasks, ...p3.tasks].map((t) => t.id),
          newest,
        );
        assert.equal(p3.tasks.length, 1);
      });

      it('a page past the end is empty but still reports the total', async ({ store }) => {
        for (let i = 0; i < 3; i++) await create(store);
        const past = await store.listTasks({ page: 5, pageSize: 2 });
        assert.deepEqual(past.tasks, []);
        assert.equal(past.total, 3);
        const none = await store.listTasks({ page: 1, pageSize: 10, type: 'nothing-here' });
        assert.deepEqual(none, { tasks: [], total: 0 });
      });

      it('every timestamp is an ISO-8601 UTC string', async ({ store }) => {
        const task = await create(store);
        const claim = await claimOne(store, task.type);
        const [log] = await store.appendLogs([
          { taskId: task.id, level: 'info', message: 'hello' },
        ]);
        const { finished } = await finish(store, claim);
        const done = finished[0]!;
        for (const value of [
          done.created_at,
          done.updated_at,
          done.started_at,
          done.completed_at,
        ]) {
          assertIso(value);
        }
        assertIso(claim.task.started_at);
        assertIso(log!.time);
        assert.ok(Date.parse(done.completed_at!) >= Date.parse(done.started_at!));
        assert.ok(Date.parse(done.started_at!) >= Date.parse(done.created_at));
      });
    });

    describe('claiming', () => {
      it('a lane runs the highest priority first, then in queue order', async ({ store }) => {
        const a = await create(store, 'generate', { priority: 0 });
        const b = await create(store, 'generate', { priority: 5 });
        const c = await create(store, 'generate', { priority: 0 });
        const d = await create(store, 'generate', { priority: 5 });
        const e = await create(store, 'generate', { priority: -1 });
        assert.deepEqual(await drainLane(store, 'generate'), [b.id, d.id, a.id, c.id, e.id]);
      });

      it("a claim writes the attempt's first log line, saying where it runs", async ({ store }) => {
        const task = await create(store, 'generate', { max_attempts: 3 });
        await store.appendLogs([{ taskId: task.id, level: 'info', message: 'before the claim' }]);
        const claimed = await claimOne(store, 'generate', NODE_B);
        const expected = startedAttemptMessage(1, 3, NODE_B.node);
        assert.deepEqual(
          { ...claimed.log, time: typeof claimed.log.time },
          { task_id: task.id, seq: 2, time: 'string', level: 'info', message: expected },
        );
        assertIso(claimed.log.time);
        assert.deepEqual(await store.listLogs(task.id, 1, 10), [claimed.log]);
      });

      it('one claim takes at most one task per lane, even if the lane is named twice', async ({
        store,
      }) => {
        const first = await create(store, 'generate');
        await create(store, 'generate');
        const claimed = await claim(store, ['generate', 'generate']);
        assert.deepEqual(
          claimed.map((c) => c.task.id),
          [first.id],
        );
        assert.equal(await countRunning(store, 'generate'), 1);
      });

      it('lanes are independent: one claim takes the head of every idle lane', async ({
        store,
      }) => {
        const g = await create(store, 'generate');
        const c = await create(store, 'crawl');
        await create(store, 'crawl');
        const t = await create(store, 'tag');
        const claimed = await claim(store, ['tag', 'generate', 'crawl']);
        assert.deepEqual(ids(claimed.map((x) => x.task)).sort(), [g.id, c.id, t.id].sort());
      });

      it('a lane with a running task gives nothing, while other lanes still do', async ({
        store,
      }) => {
        await create(store, 'generate');
        await create(store, 'generate');
        const crawl = await create(store, 'crawl');
        await claimOne(store, 'generate');
        const claimed = await claim(store, ['generate', 'crawl'], NODE_B);
        assert.deepEqual(
          claimed.map((c) => c.task.id),
          [crawl.id],
        );
        assert.equal(await countRunning(store, 'generate'), 1);
      });

      it('an empty or unknown lane gives nothing', async ({ store }) => {
        await create(store, 'generate');
        assert.deepEqual(await claim(store, ['crawl', 'no-such-type']), []);
        assert.deepEqual(await claim(store, []), []);
        const nothing = await store.finishAndClaim({ finishes: [] });
        assert.deepEqual(nothing, { finished: [], claimed: [] });
      });

      it('a claim marks the task running, counts the attempt, records the owner and mints a token', async ({
        store,
      }) => {
        const task = await create(store, 'generate');
        const claim = await claimOne(store, 'generate', NODE_A);
        assert.equal(claim.task.id, task.id);
        assert.equal(claim.task.status, 'running');
        assert.equal(claim.task.attempts, 1);
        assert.equal(claim.task.owner, NODE_A.node);
        assert.notEqual(claim.task.started_at, null);
        assert.equal(typeof claim.token, 'string');
        assert.ok(claim.token.length >= 8, 'a token hard to guess');
        assert.deepEqual(await store.getTask(task.id), claim.task);

        await store.release([{ taskId: task.id, token: claim.token, message: 'shutting down' }]);
        const again = await claimOne(store, 'generate', NODE_B);
        assert.notEqual(again.token, claim.token, 'each claim mints a new token');
        assert.equal(again.task.owner, NODE_B.node);
      });

      it('a cancelled pending task is never claimed', async ({ store }) => {
        const doomed = await create(store, 'generate');
        const next = await create(store, 'generate');
        assert.equal(
          (await store.cancelPending(doomed.id, 'changed my mind'))?.status,
          'cancelled',
        );
        assert.deepEqual(await drainLane(store, 'generate'), [next.id]);
        assert.equal((await store.getTask(doomed.id))?.status, 'cancelled');
      });

      it('a deleted pending task is never claimed', async ({ store }) => {
        const doomed = await create(store, 'generate');
        const next = await create(store, 'generate');
        assert.equal(await store.deleteTask(doomed.id), 'deleted');
        assert.deepEqual(await drainLane(store, 'generate'), [next.id]);
      });
    });

    describe('the lane invariant under concurrency', () => {
      it('instances racing to claim idle lanes: exactly one wins each lane every round, in queue order', async (ctx) => {
        const instances = [
          ctx.store,
          ...(await Promise.all([1, 2, 3, 4, 5].map(() => ctx.open()))),
        ];
        const lanes = ['generate', 'crawl', 'tag'];
        const perLane = 6;
        const created: Task[] = [];
        for (let i = 0; i < perLane; i++) {
          for (const lane of lanes) created.push(await create(ctx.store, lane));
        }
        const claimedIds: string[] = [];
        for (let round = 0; round < perLane; round++) {
          const results = await Promise.all(
            instances.map((store, i) => claim(store, shuffled(lanes), owner(i))),
          );
          const winners = results.flat();
          assert.deepEqual(
            winners.map((c) => c.task.type).sort(),
            [...lanes].sort(),
            `round ${round}: one winner per lane`,
          );
          await assertAtMostOneRunningPerType(ctx.store, winners);
          claimedIds.push(...winners.map((c) => c.task.id));
          // Finish each winner through its own instance, then race again.
          await Promise.all(
            results.map((claims, i) => Promise.all(claims.map((c) => finish(instances[i]!, c)))),
          );
        }
        assertClaimedOnceInLaneOrder(claimedIds, created);
      });

      it('instances finishing and claiming the same lanes at once never run two tasks of one type, and claim each task once, in queue order', async (ctx) => {
        const instances = [ctx.store, ...(await Promise.all([1, 2, 3].map(() => ctx.open())))];
        const lanes = ['generate', 'crawl', 'tag', 'classify'];
        const perLane = 10;
        const created: Task[] = [];
        for (let i = 0; i < perLane; i++) {
          for (const lane of lanes) created.push(await create(ctx.store, lane));
        }
        const claimedIds: string[] = [];
        let held: ClaimedTask[][] = instances.map(() => []);
        let finishedCount = 0;
        for (let round = 0; finishedCount < created.length; round++) {
          assert.ok(round < created.length * 4, 'the lanes keep moving');
          const results = await Promise.all(
            instances.map((store, i) =>
              store.finishAndClaim({
                finishes: held[i]!.map((c) => ({
                  taskId: c.task.id,
                  token: c.token,
                  status: 'completed' as const,
                })),
                claim: { types: shuffled(lanes), owner: owner(i), leaseMs: LONG_LEASE_MS },
              }),
            ),
          );
          results.forEach((result, i) => {
            assert.equal(result.finished.length, held[i]!.length, 'a held token always finishes');
          });
          finishedCount += results.reduce((n, r) => n + r.finished.length, 0);
          held = results.map((r) => r.claimed);
          const winners = held.flat();
          await assertAtMostOneRunningPerType(ctx.store, winners);
          claimedIds.push(...winners.map((c) => c.task.id));
        }
        assertClaimedOnceInLaneOrder(claimedIds, created);
        const done = await ctx.store.listTasks({ page: 1, pageSize: 100, status: 'completed' });
        assert.equal(done.total, created.length);
        assert.ok(done.tasks.every((t) => t.attempts === 1));
      });
    });

    describe('finishing', () => {
      it('completing sets progress 100, the result and completed_at', async ({ store }) => {
        await create(store);
        const claim = await claimOne(store, 'generate');
        await store.updateProgress([
          { taskId: claim.task.id, token: claim.token, progress: 40, message: 'half' },
        ]);
        const { finished } = await finish(store, claim, 'completed', {
          result: { files: ['a.png'] },
        });
        const done = finished[0]!;
        assert.equal(done.status, 'completed');
        assert.equal(done.progress, 100);
        assert.deepEqual(done.result, { files: ['a.png'] });
        assert.equal(done.error_message, null);
        assertIso(done.completed_at);
        assert.deepEqual(await store.getTask(done.id), done);
      });

      it('failing keeps the progress reached and records the error', async ({ store }) => {
        await create(store);
        const claim = await claimOne(store, 'generate');
        await store.updateProgress([
          { taskId: claim.task.id, token: claim.token, progress: 30, message: 'x' },
        ]);
        const { finished } = await finish(store, claim, 'failed', {
          errorMessage: 'WebUI unreachable',
        });
        assert.equal(finished[0]!.status, 'failed');
        assert.equal(finished[0]!.progress, 30);
        assert.equal(finished[0]!.error_message, 'WebUI unreachable');
        assertIso(finished[0]!.completed_at);
      });

      it('a running task can finish as cancelled', async ({ store }) => {
        await create(store);
        const claim = await claimOne(store, 'generate');
        await store.requestCancel(claim.task.id);
        const { finished } = await finish(store, claim, 'cancelled', {
          errorMessage: 'stopped by user',
        });
        assert.equal(finished[0]!.status, 'cancelled');
        assert.deepEqual((await store.renewLeases(NODE_A, LONG_LEASE_MS)).cancelRequested, []);
      });

      it('a finish with a stale claim token changes nothing', async ({ store }) => {
        const task = await create(store);
        const next = await create(store);
        const claim = await claimOne(store, 'generate');
        const result = await store.finishAndClaim({
          finishes: [
            { taskId: task.id, token: 'not-the-token', status: 'completed', result: 'forged' },
          ],
          claim: { types: ['generate'], owner: NODE_A, leaseMs: LONG_LEASE_MS },
        });
        assert.deepEqual(result, { finished: [], claimed: [] }, 'the lane is not freed either');
        assert.deepEqual(await store.getTask(task.id), claim.task);
        assert.equal((await store.getTask(next.id))?.status, 'pending');
      });

      it('finishing a task twice: the second finish changes nothing', async ({ store }) => {
        await create(store);
        const claim = await claimOne(store, 'generate');
        const first = (await finish(store, claim, 'completed', { result: 'first' })).finished[0]!;
        const second = await finish(store, claim, 'failed', {
          result: 'second',
          errorMessage: 'late',
        });
        assert.deepEqual(second.finished, []);
        assert.deepEqual(await store.getTask(claim.task.id), first);
      });

      it('the token of an earlier attempt cannot finish the current one', async ({ store }) => {
        await create(store);
        const old = await claimOne(store, 'generate');
        await store.release([{ taskId: old.task.id, token: old.token, message: 'restart' }]);
        const current = await claimOne(store, 'generate');
        assert.deepEqual((await finish(store, old, 'completed')).finished, []);
        assert.equal((await store.getTask(current.task.id))?.status, 'running');
        assert.equal((await finish(store, current, 'completed')).finished.length, 1);
      });

      it('finish and claim in one call hands the lane to the next task in the same call', async ({
        store,
      }) => {
        await create(store, 'generate');
        const next = await create(store, 'generate');
        const claim = await claimOne(store, 'generate');
        const result = await store.finishAndClaim({
          finishes: [{ taskId: claim.task.id, token: claim.token, status: 'completed' }],
          claim: { types: ['generate'], owner: NODE_A, leaseMs: LONG_LEASE_MS },
        });
        assert.deepEqual(ids(result.finished), [claim.task.id]);
        assert.deepEqual(
          result.claimed.map((c) => c.task.id),
          [next.id],
        );
        assert.equal(await countRunning(store, 'generate'), 1);
      });

      it('finishes of several lanes apply together; the failed fence of one does not stop the others', async ({
        store,
      }) => {
        await create(store, 'generate');
        await create(store, 'crawl');
        const [g, c] = await claimSorted(store, ['generate', 'crawl']);
        const result = await store.finishAndClaim({
          finishes: [
            { taskId: g!.task.id, token: g!.token, status: 'completed' },
            { taskId: c!.task.id, token: 'stale', status: 'completed' },
          ],
        });
        assert.deepEqual(ids(result.finished), [g!.task.id]);
        assert.equal((await store.getTask(c!.task.id))?.status, 'running');
      });
    });

    describe('progress', () => {
      it('progress never decreases within an attempt; the message takes the latest line', async ({
        store,
      }) => {
        await create(store);
        const claim = await claimOne(store, 'generate');
        const write = (progress: number, message: string) =>
          store.updateProgress([{ taskId: claim.task.id, token: claim.token, progress, message }]);
        assert.equal((await write(30, 'step 3'))[0]?.progress, 30);
        const lower = await write(20, 'loop 2, step 1');
        assert.equal(lower[0]?.progress, 30, 'a lower value keeps the higher');
        assert.equal(lower[0]?.message, 'loop 2, step 1');
        assert.equal((await write(100, 'done'))[0]?.progress, 100);
        const task = await store.getTask(claim.task.id);
        assert.equal(task?.progress, 100);
        assert.equal(task?.message, 'done');
      });

      it('a progress write with a stale token, or to a task no longer running, changes nothing', async ({
        store,
      }) => {
        const task = await create(store);
        assert.deepEqual(
          await store.updateProgress([
            { taskId: task.id, token: 'none', progress: 10, message: 'x' },
          ]),
          [],
          'pending: nothing to update',
        );
        const claim = await claimOne(store, 'generate');
        assert.deepEqual(
          await store.updateProgress([
            { taskId: task.id, token: 'forged', progress: 50, message: 'x' },
          ]),
          [],
        );
        await finish(store, claim, 'failed', { errorMessage: 'boom' });
        assert.deepEqual(
          await store.updateProgress([
            { taskId: task.id, token: claim.token, progress: 90, message: 'late' },
          ]),
          [],
        );
        const after = await store.getTask(task.id);
        assert.equal(after?.progress, 0);
        assert.equal(after?.message, '');
        assert.equal(after?.status, 'failed');
      });

      it('one call updates several tasks and returns only those that changed', async ({
        store,
      }) => {
        await create(store, 'generate');
        await create(store, 'crawl');
        const [g, c] = await claimSorted(store, ['generate', 'crawl']);
        const changed = await store.updateProgress([
          { taskId: g!.task.id, token: g!.token, progress: 10, message: 'g' },
          { taskId: c!.task.id, token: c!.token, progress: 20, message: 'c' },
          { taskId: c!.task.id, token: 'stale', progress: 90, message: 'stale' },
        ]);
        assert.deepEqual(
          changed.map((t) => [t.id, t.progress, t.message]).sort(),
          [
            [g!.task.id, 10, 'g'],
            [c!.task.id, 20, 'c'],
          ].sort(),
        );
      });

      it('a new attempt starts again from zero progress', async ({ store }) => {
        await create(store);
        const first = await claimOne(store, 'generate');
        await store.updateProgress([
          { taskId: first.task.id, token: first.token, progress: 70, message: 'm' },
        ]);
        await store.release([{ taskId: first.task.id, token: first.token, message: 'restart' }]);
        const second = await claimOne(store, 'generate');
        assert.equal(second.task.progress, 0);
        assert.equal(second.task.message, '');
        const written = await store.updateProgress([
          { taskId: second.task.id, token: second.token, progress: 5, message: 'again' },
        ]);
        assert.equal(written[0]?.progress, 5);
      });
    });

    describe('leases and recovery', () => {
      it('renewLeases reports the tasks the instance holds and which of them were asked to stop', async ({
        store,
      }) => {
        await create(store, 'generate');
        await create(store, 'crawl');
        await create(store, 'tag');
        const [g, c] = await claimSorted(store, ['generate', 'crawl', 'tag']);
        await store.requestCancel(c!.task.id);
        const report = await store.renewLeases(NODE_A, LONG_LEASE_MS);
        assert.equal(report.held.length, 3);
        assert.deepEqual(report.cancelRequested, [c!.task.id]);
        await finish(store, g!, 'completed');
        assert.equal((await store.renewLeases(NODE_A, LONG_LEASE_MS)).held.length, 2);
        assert.deepEqual(await store.renewLeases(NODE_B, LONG_LEASE_MS), {
          held: [],
          cancelRequested: [],
        });
      });

      it('a renewed lease outlives its first expiry', async ({ store }) => {
        await create(store);
        const claim = await claimOne(store, 'generate', NODE_A, SHORT_LEASE_MS);
        const report = await store.renewLeases(NODE_A, LONG_LEASE_MS);
        assert.deepEqual(report.held, [claim.task.id]);
        await sleep(PAST_SHORT_LEASE_MS);
        assert.deepEqual(await store.recoverOrphans(NODE_B), {
          requeued: [],
          failed: [],
          cancelled: [],
        });
        assert.equal((await store.getTask(claim.task.id))?.status, 'running');
      });

      it('renewing one instance leaves the leases of another to expire', async ({ store }) => {
        await create(store, 'generate');
        await create(store, 'crawl');
        const mine = await claimOne(store, 'generate', NODE_A, SHORT_LEASE_MS);
        const theirs = await claimOne(store, 'crawl', NODE_B, SHORT_LEASE_MS);
        assert.deepEqual((await store.renewLeases(NODE_A, LONG_LEASE_MS)).held, [mine.task.id]);
        await sleep(PAST_SHORT_LEASE_MS);
        const recovered = await store.recoverOrphans(NODE_A);
        assert.deepEqual(ids(recovered.requeued), [theirs.task.id]);
      });

      it('an expired lease goes back to its original place in the lane while attempts remain', async ({
        store,
      }) => {
        const first = await create(store, 'generate', { max_attempts: 2 });
        const claim = await claimOne(store, 'generate', NODE_A, SHORT_LEASE_MS);
        assert.equal(claim.task.id, first.id);
        const later = await create(store, 'generate');
        await sleep(PAST_SHORT_LEASE_MS);
        const recovered = await store.recoverOrphans(NODE_B);
        assert.deepEqual(ids(recovered.requeued), [first.id]);
        assert.deepEqual(recovered.failed, []);
        assert.deepEqual(recovered.cancelled, []);
        const requeued = recovered.requeued[0]!;
        assert.equal(requeued.status, 'pending');
        assert.equal(requeued.attempts, 1, 'the interrupted attempt counts');
        assert.equal(await countRunning(store, 'generate'), 0, 'the lane is free again');
        const again = await claimOne(store, 'generate', NODE_B);
        assert.equal(again.task.id, first.id, 'claimed before the task created after it');
        assert.equal(again.task.attempts, 2);
        await finish(store, again);
        assert.equal((await claimOne(store, 'generate', NODE_B)).task.id, later.id);
      });

      it('an expired lease on the last attempt fails the task as interrupted', async ({
        store,
      }) => {
        const task = await create(store, 'generate', { max_attempts: 1 });
        await claimOne(store, 'generate', NODE_A, SHORT_LEASE_MS);
        await sleep(PAST_SHORT_LEASE_MS);
        const recovered = await store.recoverOrphans(NODE_B);
        assert.deepEqual(ids(recovered.failed), [task.id]);
        const failed = (await store.getTask(task.id))!;
        assert.equal(failed.status, 'failed');
        assert.match(failed.error_message ?? '', /interrupted/);
        assertIso(failed.completed_at);
        assert.deepEqual(
          await claim(store, ['generate']),
          [],
          'a failed task is not claimed again',
        );
      });

      it('attempts run out across repeated interruptions', async ({ store }) => {
        const task = await create(store, 'generate', { max_attempts: 2 });
        await claimOne(store, 'generate', NODE_A, SHORT_LEASE_MS);
        await sleep(PAST_SHORT_LEASE_MS);
        assert.deepEqual(ids((await store.recoverOrphans(NODE_B)).requeued), [task.id]);
        await claimOne(store, 'generate', NODE_A, SHORT_LEASE_MS);
        await sleep(PAST_SHORT_LEASE_MS);
        assert.deepEqual(ids((await store.recoverOrphans(NODE_B)).failed), [task.id]);
      });

      it('a task of the same node but an earlier instance is recovered at once, without waiting for expiry', async ({
        store,
      }) => {
        const task = await create(store);
        await claimOne(store, 'generate', NODE_A, LONG_LEASE_MS);
        const recovered = await store.recoverOrphans(NODE_A_RESTARTED);
        assert.deepEqual(ids(recovered.requeued), [task.id]);
        assert.equal((await store.getTask(task.id))?.status, 'pending');
      });

      it('an instance does not recover its own live tasks', async ({ store }) => {
        await create(store);
        await claimOne(store, 'generate', NODE_A, LONG_LEASE_MS);
        assert.deepEqual(await store.recoverOrphans(NODE_A), {
          requeued: [],
          failed: [],
          cancelled: [],
        });
      });

      it('a cancel-requested orphan becomes cancelled', async ({ store }) => {
        const task = await create(store, 'generate', { max_attempts: 5 });
        await claimOne(store, 'generate', NODE_A, SHORT_LEASE_MS);
        await store.requestCancel(task.id);
        await sleep(PAST_SHORT_LEASE_MS);
        const recovered = await store.recoverOrphans(NODE_B);
        assert.deepEqual(ids(recovered.cancelled), [task.id]);
        assert.deepEqual(recovered.requeued, []);
        const cancelled = await store.getTask(task.id);
        assert.equal(cancelled?.status, 'cancelled');
        assertIso(cancelled?.completed_at);
      });

      it('a task of a live other owner with a valid lease is not touched', async ({ store }) => {
        const task = await create(store);
        const claim = await claimOne(store, 'generate', NODE_B, LONG_LEASE_MS);
        assert.deepEqual(await store.recoverOrphans(NODE_A), {
          requeued: [],
          failed: [],
          cancelled: [],
        });
        assert.deepEqual(await store.getTask(task.id), claim.task);
      });

      it('the owner of a recovered task can no longer write to it', async ({ store }) => {
        const task = await create(store);
        const lost = await claimOne(store, 'generate', NODE_A, SHORT_LEASE_MS);
        await sleep(PAST_SHORT_LEASE_MS);
        await store.recoverOrphans(NODE_B);
        assert.deepEqual(
          await store.updateProgress([
            { taskId: task.id, token: lost.token, progress: 50, message: 'late' },
          ]),
          [],
        );
        assert.deepEqual((await finish(store, lost, 'completed')).finished, []);
        assert.deepEqual(
          await store.release([{ taskId: task.id, token: lost.token, message: 'late' }]),
          [],
        );
        assert.deepEqual((await store.renewLeases(NODE_A, LONG_LEASE_MS)).held, []);
        assert.equal((await store.getTask(task.id))?.status, 'pending');
      });
    });

    describe('release', () => {
      it('release returns a running task to its place in the lane and gives the attempt back', async ({
        store,
      }) => {
        const first = await create(store);
        const claim = await claimOne(store, 'generate');
        await create(store);
        const released = await store.release([
          { taskId: first.id, token: claim.token, message: 'server shutting down' },
        ]);
        assert.deepEqual(ids(released), [first.id]);
        assert.equal(released[0]!.status, 'pending');
        assert.equal(released[0]!.attempts, 0);
        assert.equal(released[0]!.message, 'server shutting down');
        assert.equal(await countRunning(store, 'generate'), 0);
        const again = await claimOne(store, 'generate', NODE_B);
        assert.equal(again.task.id, first.id, 'ahead of the task created after it');
        assert.equal(again.task.attempts, 1);
      });

      it('release with a stale token changes nothing', async ({ store }) => {
        await create(store);
        const claim = await claimOne(store, 'generate');
        assert.deepEqual(
          await store.release([{ taskId: claim.task.id, token: 'stale', message: 'x' }]),
          [],
        );
        assert.deepEqual(await store.getTask(claim.task.id), claim.task);
        assert.deepEqual(await store.release([]), []);
      });
    });

    describe('cancel, stop request and rerun', () => {
      it('cancelPending cancels a pending task with the reason', async ({ store }) => {
        const task = await create(store);
        const cancelled = await store.cancelPending(task.id, 'cancelled before it started');
        assert.equal(cancelled?.status, 'cancelled');
        assert.equal(cancelled?.error_message, 'cancelled before it started');
        assertIso(cancelled?.completed_at);
        assert.deepEqual(await store.getTask(task.id), cancelled);
      });

      it('cancelPending of a running, finished or unknown task is null and changes nothing', async ({
        store,
      }) => {
        const running = await create(store, 'generate');
        const done = await create(store, 'crawl');
        const claims = await claimSorted(store, ['generate', 'crawl']);
        await finish(
          store,
          claims.find((c) => c.task.id === done.id)!,
        );
        const before = [await store.getTask(running.id), await store.getTask(done.id)];
        assert.equal(await store.cancelPending(running.id, 'x'), null);
        assert.equal(await store.cancelPending(done.id, 'x'), null);
        assert.equal(await store.cancelPending('missing', 'x'), null);
        assert.deepEqual([await store.getTask(running.id), await store.getTask(done.id)], before);
      });

      it('requestCancel marks a running task and leaves it running', async ({ store }) => {
        const task = await create(store);
        const claim = await claimOne(store, 'generate');
        const marked = await store.requestCancel(task.id);
        assert.equal(marked?.status, 'running');
        assert.deepEqual((await store.renewLeases(NODE_A, LONG_LEASE_MS)).cancelRequested, [
          task.id,
        ]);
        assert.equal(
          (await finish(store, claim, 'cancelled')).finished.length,
          1,
          'its owner still finishes it',
        );
      });

      it('requestCancel of a pending, finished or unknown task is null', async ({ store }) => {
        const pending = await create(store, 'crawl');
        await create(store, 'generate');
        const claim = await claimOne(store, 'generate');
        await finish(store, claim);
        assert.equal(await store.requestCancel(pending.id), null);
        assert.equal(await store.requestCancel(claim.task.id), null);
        assert.equal(await store.requestCancel('missing'), null);
      });

      it('a cancel request does not carry over to the next attempt', async ({ store }) => {
        const task = await create(store);
        const first = await claimOne(store, 'generate');
        await store.requestCancel(task.id);
        await finish(store, first, 'cancelled');
        await store.rerun(task.id);
        await claimOne(store, 'generate');
        assert.deepEqual((await store.renewLeases(NODE_A, LONG_LEASE_MS)).cancelRequested, []);
      });

      it('rerun puts a finished task at the tail of its lane with attempts, progress, result and error reset', async ({
        store,
      }) => {
        const a = await create(store, 'generate', { max_attempts: 3 });
        const b = await create(store, 'generate');
        const claim = await claimOne(store, 'generate');
        await store.updateProgress([
          { taskId: a.id, token: claim.token, progress: 60, message: 'm' },
        ]);
        await finish(store, claim, 'failed', { result: { partial: true }, errorMessage: 'boom' });
        const c = await create(store, 'generate');
        const rerun = await store.rerun(a.id);
        assert.equal(rerun?.status, 'pending');
        assert.equal(rerun?.attempts, 0);
        assert.equal(rerun?.max_attempts, 3);
        assert.equal(rerun?.progress, 0);
        assert.equal(rerun?.message, '');
        assert.equal(rerun?.result, null);
        assert.equal(rerun?.error_message, null);
        assert.equal(rerun?.started_at, null);
        assert.equal(rerun?.completed_at, null);
        assert.equal(rerun?.created_at, a.created_at);
        assert.deepEqual(rerun?.config, a.config);
        assert.deepEqual(await drainLane(store, 'generate'), [b.id, c.id, a.id]);
      });

      it('every terminal status can be rerun', async ({ store }) => {
        for (const status of TERMINAL_STATUSES) {
          const task = await create(store, `lane-${status}`);
          if (status === 'cancelled') {
            await store.cancelPending(task.id, 'x');
          } else {
            await finish(store, await claimOne(store, task.type), status);
          }
          assert.equal((await store.rerun(task.id))?.status, 'pending', status);
        }
      });

      it('rerun keeps the task logs and continues their sequence', async ({ store }) => {
        const task = await create(store);
        const claim = await claimOne(store, 'generate');
        await store.appendLogs([
          { taskId: task.id, level: 'info', message: 'attempt 1' },
          { taskId: task.id, level: 'error', message: 'failed' },
        ]);
        await finish(store, claim, 'failed', { errorMessage: 'x' });
        await store.rerun(task.id);
        const second = await claimOne(store, 'generate');
        const [line] = await store.appendLogs([
          { taskId: task.id, level: 'info', message: 'attempt 2' },
        ]);
        assert.equal(second.log.seq, 4);
        assert.equal(line?.seq, 5);
        assert.deepEqual(
          (await store.listLogs(task.id, 0, 10)).map((l) => l.message),
          [
            startedAttemptMessage(1, task.max_attempts, NODE_A.node),
            'attempt 1',
            'failed',
            // A rerun starts over: its attempts count from 1 again.
            startedAttemptMessage(1, task.max_attempts, NODE_A.node),
            'attempt 2',
          ],
        );
      });

      it('rerun of a pending, running or unknown task is null and changes nothing', async ({
        store,
      }) => {
        const pending = await create(store, 'crawl');
        await create(store, 'generate');
        const running = await claimOne(store, 'generate');
        assert.equal(await store.rerun(pending.id), null);
        assert.equal(await store.rerun(running.task.id), null);
        assert.equal(await store.rerun('missing'), null);
        assert.deepEqual(await store.getTask(pending.id), pending);
        assert.deepEqual(await store.getTask(running.task.id), running.task);
      });

      it('every visible change increases the version', async ({ store }) => {
        const steps: Task[] = [];
        const task = await create(store);
        steps.push(task);
        const claim = await claimOne(store, 'generate');
        steps.push(claim.task);
        steps.push(
          (
            await store.updateProgress([
              { taskId: task.id, token: claim.token, progress: 5, message: 'm' },
            ])
          )[0]!,
        );
        steps.push((await store.requestCancel(task.id))!);
        steps.push((await finish(store, claim, 'cancelled')).finished[0]!);
        steps.push((await store.rerun(task.id))!);
        const again = await claimOne(store, 'generate');
        steps.push(again.task);
        steps.push(
          (await store.release([{ taskId: task.id, token: again.token, message: 'm' }]))[0]!,
        );
        steps.push((await store.cancelPending(task.id, 'x'))!);
        const versions = steps.map((t) => t.version);
        for (let i = 1; i < versions.length; i++) {
          assert.ok(
            versions[i]! > versions[i - 1]!,
            `version increases at step ${i}: ${versions.join(', ')}`,
          );
        }
      });
    });

    describe('delete and cleanup', () => {
      it('deleteTask deletes a pending or finished task together with its logs', async ({
        store,
      }) => {
        const pending = await create(store, 'crawl');
        const done = await create(store, 'generate');
        const claim = await claimOne(store, 'generate');
        await store.appendLogs([{ taskId: done.id, level: 'info', message: 'x' }]);
        await finish(store, claim);
        assert.equal(await store.deleteTask(pending.id), 'deleted');
        assert.equal(await store.deleteTask(done.id), 'deleted');
        assert.equal(await store.getTask(pending.id), null);
        assert.equal(await store.getTask(done.id), null);
        assert.deepEqual(await store.listLogs(done.id, 0, 10), []);
        assert.equal((await store.listTasks({ page: 1, pageSize: 10 })).total, 0);
      });

      it('deleteTask refuses a running task', async ({ store }) => {
        await create(store);
        const claim = await claimOne(store, 'generate');
        assert.equal(await store.deleteTask(claim.task.id), 'running');
        assert.deepEqual(await store.getTask(claim.task.id), claim.task);
      });

      it('deleteTask of an unknown id is missing', async ({ store }) => {
        assert.equal(await store.deleteTask('no-such-task'), 'missing');
        const task = await create(store);
        await store.deleteTask(task.id);
        assert.equal(await store.deleteTask(task.id), 'missing');
      });

      it('cleanup deletes only the given terminal statuses and returns id and type', async ({
        store,
      }) => {
        const byStatus = await oneTaskInEachStatus(store);
        const removed = await store.cleanup(['completed']);
        assert.deepEqual(removed, [{ id: byStatus.completed.id, type: byStatus.completed.type }]);
        const removedMore = await store.cleanup(['failed', 'cancelled']);
        assert.deepEqual(
          removedMore.map((r) => r.id).sort(),
          [byStatus.failed.id, byStatus.cancelled.id].sort(),
        );
        const left = (await store.listTasks({ page: 1, pageSize: 10 })).tasks
          .map((t) => t.status)
          .sort();
        assert.deepEqual(left, ['pending', 'running']);
      });

      it('cleanup of every terminal status never touches pending or running tasks', async ({
        store,
      }) => {
        const byStatus = await oneTaskInEachStatus(store);
        await store.appendLogs([{ taskId: byStatus.failed.id, level: 'error', message: 'gone' }]);
        const removed = await store.cleanup([...TERMINAL_STATUSES]);
        assert.equal(removed.length, 3);
        assert.equal((await store.getTask(byStatus.pending.id))?.status, 'pending');
        assert.equal((await store.getTask(byStatus.running.id))?.status, 'running');
        assert.deepEqual(await store.listLogs(byStatus.failed.id, 0, 10), []);
        assert.deepEqual(await store.cleanup([...TERMINAL_STATUSES]), []);
      });

      it('cleanup with no statuses deletes nothing', async ({ store }) => {
        await oneTaskInEachStatus(store);
        assert.deepEqual(await store.cleanup([]), []);
        assert.equal((await store.listTasks({ page: 1, pageSize: 10 })).total, 5);
      });
    });

    describe('logs', () => {
      it('seq starts at 1 and increases per task, independently for each task', async ({
        store,
      }) => {
        const a = await create(store);
        const b = await create(store);
        const written = await store.appendLogs([
          { taskId: a.id, level: 'info', message: 'a1' },
          { taskId: b.id, level: 'debug', message: 'b1' },
          { taskId: a.id, level: 'warn', message: 'a2' },
        ]);
        assert.deepEqual(
          written.map((l) => [l.task_id, l.seq, l.level, l.message]),
          [
            [a.id, 1, 'info', 'a1'],
            [b.id, 1, 'debug', 'b1'],
            [a.id, 2, 'warn', 'a2'],
          ],
        );
        const more = await store.appendLogs([{ taskId: b.id, level: 'error', message: 'b2' }]);
        assert.equal(more[0]?.seq, 2);
        assert.deepEqual(
          (await store.listLogs(a.id, 0, 10)).map((l) => l.seq),
          [1, 2],
        );
        assert.deepEqual(await store.appendLogs([]), []);
      });

      it('listLogs pages with afterSeq and limit, in seq order', async ({ store }) => {
        const task = await create(store);
        await store.appendLogs(
          Array.from({ length: 7 }, (_, i) => ({
            taskId: task.id,
            level: 'info' as const,
            message: `line ${i + 1}`,
          })),
        );
        const page = async (after: number, limit: number) =>
          (await store.listLogs(task.id, after, limit)).map((l) => l.seq);
        assert.deepEqual(await page(0, 3), [1, 2, 3]);
        assert.deepEqual(await page(3, 3), [4, 5, 6]);
        assert.deepEqual(await page(6, 3), [7]);
        assert.deepEqual(await page(7, 3), []);
        assert.deepEqual(await store.listLogs('missing', 0, 10), []);
        const [line] = await store.listLogs(task.id, 4, 1);
        assert.equal(line?.message, 'line 5');
        assert.equal(line?.task_id, task.id);
      });

      it('a given time is kept; without one the store stamps the line', async ({ store }) => {
        const task = await create(store);
        const time = '2024-03-01T12:34:56.789Z';
        const [given, stamped] = await store.appendLogs([
          { taskId: task.id, level: 'info', message: 'given', time },
          { taskId: task.id, level: 'info', message: 'stamped' },
        ]);
        assert.equal(given?.time, time);
        assertIso(stamped?.time);
        assert.equal((await store.listLogs(task.id, 0, 1))[0]?.time, time);
      });

      it('lines for a deleted or unknown task are dropped, not an error', async ({ store }) => {
        const live = await create(store);
        const gone = await create(store);
        await store.deleteTask(gone.id);
        const written = await store.appendLogs([
          { taskId: gone.id, level: 'info', message: 'late' },
          { taskId: live.id, level: 'info', message: 'kept' },
          { taskId: 'never-existed', level: 'info', message: 'x' },
        ]);
        assert.deepEqual(
          written.map((l) => [l.task_id, l.seq]),
          [[live.id, 1]],
        );
        assert.deepEqual(await store.listLogs(gone.id, 0, 10), []);
      });

      it('concurrent appends from several instances never reuse a seq', async (ctx) => {
        const instances = [ctx.store, await ctx.open(), await ctx.open()];
        const a = await create(ctx.store);
        const b = await create(ctx.store);
        const perInstance = 15;
        await Promise.all(
          instances.map(async (store, i) => {
            for (let n = 0; n < perInstance; n++) {
              await store.appendLogs([
                { taskId: a.id, level: 'info', message: `${i}:${n}` },
                { taskId: b.id, level: 'info', message: `${i}:${n}` },
              ]);
            }
          }),
        );
        for (const task of [a, b]) {
          const logs = await ctx.store.listLogs(task.id, 0, 1000);
          assert.deepEqual(
            logs.map((l) => l.seq),
            Array.from({ length: instances.length * perInstance }, (_, i) => i + 1),
          );
          // Each instance's lines keep their order.
          for (let i = 0; i < instances.length; i++) {
            const mine = logs.filter((l) => l.message.startsWith(`${i}:`)).map((l) => l.message);
            assert.deepEqual(
              mine,
              Array.from({ length: perInstance }, (_, n) => `${i}:${n}`),
            );
          }
        }
      });

      it('free text with odd characters is stored without failing the write', async ({ store }) => {
        const task = await create(store);
        const claim = await claimOne(store, 'generate');
        const odd = 'nul:\u0000 lone surrogate:\ud800 emoji:🎨 rtl:שלום';
        const [line] = await store.appendLogs([{ taskId: task.id, level: 'warn', message: odd }]);
        assert.ok(line);
        const [progressed] = await store.updateProgress([
          { taskId: task.id, token: claim.token, progress: 1, message: odd },
        ]);
        assert.ok(progressed);
        const { finished } = await finish(store, claim, 'failed', { errorMessage: odd });
        assert.equal(finished.length, 1, 'a finish must never fail on its error text');
        for (const text of [line.message, progressed.message, finished[0]!.error_message ?? '']) {
          // NUL and a lone surrogate may come back replaced (U+FFFD); everything else is kept.
          assert.match(text, /^nul:.? lone surrogate:.{0,3} emoji:🎨 rtl:שלום$/u);
        }
      });
    });

    describe('JSON fidelity', () => {
      const tricky: JsonObject = {
        unicode: 'héllo 世界 мир',
        emoji: '🎨🖌️👩‍🎨',
        nul: 'before\u0000after',
        loneSurrogate: 'x\ud800y\udc00z',
        controls: '\t\n\r\b\f\u0001\u001f',
        quotes: 'say "hi" \\ back\\slash /slash',
        html: '<script>&amp;</script>',
        lineSeparators: '\u2028\u2029',
        '键 🔑': { 'nested key': true },
        nested: [[1, [2, [3, [4, []]]]], { a: null, b: [{}] }],
        numbers: [
          0,
          -1,
          0.1,
          0.1 + 0.2,
          1e21,
          -2.5e-7,
          Number.MAX_SAFE_INTEGER,
          Number.MIN_SAFE_INTEGER,
          Number.MAX_VALUE,
          -Number.MAX_VALUE,
          Number.MIN_VALUE,
        ],
        empty: { object: {}, array: [], string: '' },
        booleans: [true, false],
      };

      it('config round-trips exactly: unicode, emoji, NUL, nested arrays, extreme numbers', async ({
        store,
      }) => {
        const task = await store.createTask({
          type: 'generate',
          config: tricky,
          priority: 0,
          max_attempts: 1,
        });
        assert.deepEqual(task.config, tricky);
        assert.deepEqual((await store.getTask(task.id))?.config, tricky);
        assert.deepEqual(
          (await store.listTasks({ page: 1, pageSize: 1 })).tasks[0]?.config,
          tricky,
        );
        assert.equal(
          JSON.stringify((await store.getTask(task.id))?.config),
          JSON.stringify(tricky),
          'key order kept',
        );
      });

      it('result round-trips exactly, whatever JSON value it is', async ({ store }) => {
        const results: JsonValue[] = [tricky, [tricky, 1, 'x'], 'just a string', 42, false];
        for (const result of results) {
          await create(store);
          const claim = await claimOne(store, 'generate');
          const { finished } = await finish(store, claim, 'completed', { result });
          assert.deepEqual(finished[0]?.result, result);
          assert.deepEqual((await store.getTask(claim.task.id))?.result, result);
        }
      });

      it('a null or absent result is stored as null', async ({ store }) => {
        await create(store);
        await create(store);
        const first = await claimOne(store, 'generate');
        assert.equal(
          (await finish(store, first, 'completed', { result: null })).finished[0]?.result,
          null,
        );
        const second = await claimOne(store, 'generate');
        assert.equal((await finish(store, second, 'completed')).finished[0]?.result, null);
      });
    });
  });
}

// ---- helpers -------------------------------------------------------------------------------

function owner(i: number): Owner {
  return { node: `node-${i}`, instance: `node-${i}#1` };
}

async function create(
  store: Store,
  type = 'generate',
  extra: Partial<NewTask> = {},
): Promise<Task> {
  return store.createTask({ type, config: { n: 1 }, priority: 0, max_attempts: 2, ...extra });
}

async function claim(
  store: Store,
  types: readonly string[],
  who: Owner = NODE_A,
  leaseMs = LONG_LEASE_MS,
): Promise<ClaimedTask[]> {
  return (await store.finishAndClaim({ finishes: [], claim: { types, owner: who, leaseMs } }))
    .claimed;
}

async function claimOne(
  store: Store,
  type: string,
  who: Owner = NODE_A,
  leaseMs = LONG_LEASE_MS,
): Promise<ClaimedTask> {
  const claimed = await claim(store, [type], who, leaseMs);
  assert.equal(claimed.length, 1, `expected to claim one ${type} task`);
  return claimed[0]!;
}

/** Claims of several lanes, in the order the lanes were named. */
async function claimSorted(store: Store, types: readonly string[]): Promise<ClaimedTask[]> {
  const claimed = await claim(store, types);
  return types.flatMap((type) => claimed.filter((c) => c.task.type === type));
}

async function finish(
  store: Store,
  claimed: ClaimedTask,
  status: TerminalStatus = 'completed',
  extra: { result?: JsonValue | null; errorMessage?: string | null } = {},
): Promise<FinishAndClaimResult> {
  return store.finishAndClaim({
    finishes: [{ taskId: claimed.task.id, token: claimed.token, status, ...extra }],
  });
}

/** Claim and complete one lane until it is empty; the ids in the order they ran. */
async function drainLane(store: Store, type: string): Promise<string[]> {
  const order: string[] = [];
  for (let claimed = await claim(store, [type]); claimed.length > 0;) {
    const current = claimed[0]!;
    order.push(current.task.id);
    claimed = (
      await store.finishAndClaim({
        finishes: [{ taskId: current.task.id, token: current.token, status: 'completed' }],
        claim: { types: [type], owner: NODE_A, leaseMs: LONG_LEASE_MS },
      })
    ).claimed;
  }
  return order;
}

async function countRunning(store: Store, type: string): Promise<number> {
  return (await store.listTasks({ page: 1, pageSize: 100, type, status: 'running' })).total;
}

/** The database holds exactly the claims just won, at most one per type. */
async function assertAtMostOneRunningPerType(store: Store, winners: ClaimedTask[]): Promise<void> {
  const running = (await store.listTasks({ page: 1, pageSize: 100, status: 'running' })).tasks;
  const types = running.map((t) => t.type);
  assert.equal(
    new Set(types).size,
    types.length,
    `two running tasks of one type: ${types.join(', ')}`,
  );
  const winnerTypes = winners.map((c) => c.task.type);
  assert.equal(
    new Set(winnerTypes).size,
    winnerTypes.length,
    `two claims of one type: ${winnerTypes.join(', ')}`,
  );
  assert.deepEqual(ids(running).sort(), winners.map((c) => c.task.id).sort());
}

/** Every task was claimed exactly once, and each lane ran its tasks in the order they were queued. */
function assertClaimedOnceInLaneOrder(
  claimedIds: readonly string[],
  created: readonly Task[],
): void {
  assert.equal(new Set(claimedIds).size, claimedIds.length, 'no task claimed twice');
  assert.deepEqual(new Set(claimedIds), new Set(ids(created)), 'every task claimed');
  const position = new Map(claimedIds.map((id, i) => [id, i]));
  for (const type of new Set(created.map((t) => t.type))) {
    const queued = ids(created.filter((t) => t.type === type));
    const ran = [...queued].sort((a, b) => position.get(a)! - position.get(b)!);
    assert.deepEqual(ran, queued, `lane ${type} ran in queue order`);
  }
}

async function oneTaskInEachStatus(store: Store): Promise<Record<TaskStatus, Task>> {
  const completed = await create(store, 'generate');
  const failed = await create(store, 'crawl');
  const running = await create(store, 'tag');
  const cancelled = await create(store, 'train');
  const pending = await create(store, 'tag');
  const claims = await claimSorted(store, ['generate', 'crawl', 'tag']);
  await finish(store, claims[0]!, 'completed');
  await finish(store, claims[1]!, 'failed', { errorMessage: 'x' });
  await store.cancelPending(cancelled.id, 'x');
  assert.equal(claims[2]!.task.id, running.id);
  return { completed, failed, running, cancelled, pending };
}

function ids(tasks: readonly Task[]): string[] {
  return tasks.map((t) => t.id);
}

function assertIso(value: string | null | undefined): void {
  assert.equal(typeof value, 'string', `a timestamp, got ${String(value)}`);
  assert.equal(new Date(value!).toISOString(), value, `ISO-8601 UTC: ${value}`);
}

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
