import type { PoolClient } from 'pg';
import type { ModuleMigration } from '../store.js';
import type { PgDb } from './database.js';
import { MIGRATIONS } from './migrations/index.js';

/**
 * Apply pending migrations under a session advisory lock, so several servers starting at once
 * take turns: the first applies, the others find every version recorded. Each migration commits
 * together with its `schema_migrations` row.
 */
export async function migrate(db: PgDb, schema: string | null): Promise<void> {
  await underMigrationLock(db, schema, async (client) => {
    if (schema) await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
    const applied = await client.query<{ version: number }>(
      'SELECT version FROM schema_migrations',
    );
    await applyPending(client, MIGRATIONS, applied.rows, (migration) => [
      'INSERT INTO schema_migrations (version, name) VALUES ($1, $2)',
      [migration.version, migration.name],
    ]);
  });
}

/** An executor module's own migrations, numbered apart from the core's, under the same lock. */
export async function migrateModule(
  db: PgDb,
  schema: string | null,
  module: string,
  migrations: readonly ModuleMigration[],
): Promise<void> {
  await underMigrationLock(db, schema, async (client) => {
    await client.query(`CREATE TABLE IF NOT EXISTS module_migrations (
      module TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (module, version))`);
    const applied = await client.query<{ version: number }>(
      'SELECT version FROM module_migrations WHERE module = $1',
      [module],
    );
    await applyPending(client, migrations, applied.rows, (migration) => [
      'INSERT INTO module_migrations (module, version, name) VALUES ($1, $2, $3)',
      [module, migration.version, migration.name],
    ]);
  });
}

async function applyPending(
  client: PoolClient,
  migrations: readonly ModuleMigration[],
  applied: readonly { version: number }[],
  record: (migration: ModuleMigration) => [string, unknown[]],
): Promise<void> {
  const done = new Set(applied.map((row) => row.version));
  for (const migration of migrations) {
    if (done.has(migration.version)) continue;
    await client.query('BEGIN');
    try {
      await client.query(migration.sql);
      await client.query(...record(migration));
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }
}

async function underMigrationLock(
  db: PgDb,
  schema: string | null,
  fn: (client: PoolClient) => Promise<void>,
): Promise<void> {
  const client = await db.pool.connect();
  let broken: Error | undefined;
  const lockKey = `pixivtailor:migrate:${schema ?? ''}`;
  try {
    await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [lockKey]);
    try {
      await fn(client);
    } finally {
      await client
        .query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [lockKey])
        .catch((error: Error) => {
          // The session is gone, and its lock with it; do not hand the connection out again.
          broken = error;
        });
    }
  } finally {
    client.release(broken);
  }
}
