import type { ModuleMigration } from '../store.js';
import type { SqliteDb } from './database.js';
import { MIGRATIONS } from './migrations/index.js';

/** Apply pending core migrations in one IMMEDIATE transaction (it serializes concurrent starts). */
export function migrate(db: SqliteDb): void {
  db.raw.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  applyPending(db, MIGRATIONS, 'SELECT version FROM schema_migrations', [], (migration) => [
    'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
    [migration.version, migration.name, new Date().toISOString()],
  ]);
}

/** An executor module's own migrations, numbered apart from the core's. */
export function migrateModule(
  db: SqliteDb,
  module: string,
  migrations: readonly ModuleMigration[],
): void {
  db.raw.exec(`CREATE TABLE IF NOT EXISTS module_migrations (
    module TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL,
    PRIMARY KEY (module, version))`);
  applyPending(
    db,
    migrations,
    'SELECT version FROM module_migrations WHERE module = ?',
    [module],
    (migration) => [
      'INSERT INTO module_migrations (module, version, name, applied_at) VALUES (?, ?, ?, ?)',
      [module, migration.version, migration.name, new Date().toISOString()],
    ],
  );
}

function applyPending(
  db: SqliteDb,
  migrations: readonly ModuleMigration[],
  appliedQuery: string,
  appliedParams: readonly string[],
  record: (migration: ModuleMigration) => [string, (string | number)[]],
): void {
  db.transaction(() => {
    const applied = new Set(
      (db.raw.prepare(appliedQuery).all(...appliedParams) as { version: number }[]).map(
        (row) => row.version,
      ),
    );
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      db.raw.exec(migration.sql);
      const [sql, params] = record(migration);
      db.raw.prepare(sql).run(...params);
    }
  });
}
