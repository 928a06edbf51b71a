import type { PgDb } from './database.js';
import { MIGRATIONS } from './migrations/index.js';

/**
 * Apply pending migrations under a session advisory lock, so several servers starting at once
 * take turns: the first applies, the others find every version recorded. Each migration commits
 * together with its `schema_migrations` row.
 */
export async function migrate(db: PgDb, schema: string | null): Promise<void> {
  const client = await db.pool.connect();
  let broken: Error | undefined;
  const lockKey = `pixivtailor:migrate:${schema ?? ''}`;
  try {
    await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [lockKey]);
    try {
      if (schema) await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
      const applied = new Set(
        (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map(
          (row) => row.version,
        ),
      );
      for (const migration of MIGRATIONS) {
        if (applied.has(migration.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(migration.sql);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
            migration.version,
            migration.name,
          ]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      }
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
