import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteDb } from '../../src/store/sqlite/database.js';

// Group commit (SqliteDb.batch), seen from a second connection on the same file: what is
// acknowledged is committed, a failing write fails alone, and one turn's writes share a commit.
describe('SQLite group commit', () => {
  let dir: string;
  let db: SqliteDb;
  let observer: Database.Database;
  const rows = (): number[] =>
    (observer.prepare('SELECT n FROM t ORDER BY n').all() as { n: number }[]).map((r) => r.n);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tailor-batch-'));
    db = new SqliteDb(join(dir, 'batch.db'));
    db.raw.exec('CREATE TABLE t (n INTEGER PRIMARY KEY)');
    observer = new Database(join(dir, 'batch.db'), { readonly: true });
  });
  after(async () => {
    observer.close();
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  const insert = (n: number) => () => db.stmt('INSERT INTO t (n) VALUES (?)').run(n).changes;

  test('writes of one turn commit together, in order, before any of them resolves', async () => {
    db.raw.exec('DELETE FROM t');
    const seenAtResolve: number[][] = [];
    const writes = [1, 2, 3].map((n) => db.batch(insert(n)).then(() => seenAtResolve.push(rows())));
    // Nothing is visible before the turn ends: the group has not committed yet.
    assert.deepEqual(rows(), []);
    await Promise.all(writes);
    // Each promise settled after the one COMMIT: all three saw all three rows.
    assert.deepEqual(seenAtResolve, [
      [1, 2, 3],
      [1, 2, 3],
      [1, 2, 3],
    ]);
    // A write sees the writes queued before it in the same group.
    const counted = await Promise.all([
      db.batch(insert(4)),
      db.batch(() => (db.stmt('SELECT count(*) AS c FROM t').get() as { c: number }).c),
    ]);
    assert.deepEqual(counted, [1, 4]);
  });

  test('a write that throws fails alone; the rest of its group is committed', async () => {
    db.raw.exec('DELETE FROM t');
    const results = await Promise.allSettled([
      db.batch(insert(10)),
      db.batch(insert(10)), // duplicate key
      db.batch(() => {
        throw new Error('boom');
      }),
      db.batch(insert(11)),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'rejected', 'fulfilled'],
    );
    assert.match(String((results[1] as PromiseRejectedResult).reason), /UNIQUE/);
    assert.match(String((results[2] as PromiseRejectedResult).reason), /boom/);
    assert.deepEqual(rows(), [10, 11]);
  });

  test('batchNow commits at once, together with what the turn queued before it', async () => {
    db.raw.exec('DELETE FROM t');
    const queued = db.batch(insert(20));
    const now = db.batchNow(insert(21));
    // Committed before the call returned, without waiting for the turn to end.
    assert.deepEqual(rows(), [20, 21]);
    assert.deepEqual(await Promise.all([queued, now]), [1, 1]);
  });
});

// The background checkpointer (checkpointer.ts): it must actually run — from the TypeScript
// sources as from the build — or every ~1,000 WAL pages a commit on the event loop pays for a
// whole checkpoint and its fsync.
describe('SQLite background checkpointer', () => {
  test('runs in its worker and copies the WAL into the database file; the writer never checkpoints', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tailor-ckpt-'));
    const db = new SqliteDb(join(dir, 'ckpt.db'));
    try {
      db.raw.exec('CREATE TABLE t (x BLOB)');
      const insert = db.stmt('INSERT INTO t (x) VALUES (randomblob(3000))');
      for (let i = 0; i < 300; i++) insert.run();
      const deadline = Date.now() + 10_000;
      let report = db.backgroundCheckpoint;
      while (!(report && report.log >= 300 && report.checkpointed === report.log)) {
        assert.ok(
          Date.now() < deadline,
          `no full checkpoint reported (last: ${JSON.stringify(report)})`,
        );
        await new Promise((resolve) => setTimeout(resolve, 50));
        report = db.backgroundCheckpoint;
      }
      // Still on: the worker is alive (had it failed, SQLite's own checkpoints would be back).
      assert.equal(db.raw.pragma('wal_autocheckpoint', { simple: true }), 0);
    } finally {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('once close resolves, the checkpointer has closed its connection too: nothing holds the files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tailor-ckpt-close-'));
    try {
      const file = join(dir, 'close.db');
      const db = new SqliteDb(file);
      db.raw.exec('CREATE TABLE t (x BLOB)');
      for (let i = 0; i < 50; i++) db.stmt('INSERT INTO t (x) VALUES (randomblob(3000))').run();
      // Let the worker open its connection and checkpoint at least once.
      while (!db.backgroundCheckpoint) await new Promise((resolve) => setTimeout(resolve, 20));
      await db.close();
      // The last connection to close removes the WAL and its index; one still open keeps them.
      assert.deepEqual((await readdir(dir)).sort(), ['close.db']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
