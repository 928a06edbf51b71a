import type { ModuleMigration, ModuleSql, SqlParam } from '../store.js';
import type { PgDb } from './database.js';
import { migrateModule } from './migrate.js';
import { pgText } from './rows.js';

/**
 * Module SQL on the cluster store: `$1…` placeholders, each statement in its own implicit
 * transaction. Reads are run again on another connection should theirs have died unnoticed;
 * writes are not (a connection can die after COMMIT but before its reply).
 */
export function postgresModuleSql(db: PgDb, schema: string | null): ModuleSql {
  return {
    dialect: 'postgres',
    async rows<Row extends object>(sql: string, params: readonly SqlParam[] = []): Promise<Row[]> {
      // PostgreSQL text cannot hold NUL; the core's columns replace it the same way.
      const values = params.map((p) => (typeof p === 'string' ? pgText(p) : p));
      const run = async (): Promise<Row[]> => (await db.rows(sql, values)) as Row[];
      return /^\s*(SELECT|WITH)\b/i.test(sql) ? db.idempotent(run) : run();
    },
    async migrate(module: string, migrations: readonly ModuleMigration[]): Promise<void> {
      await migrateModule(db, schema, module, migrations);
    },
  };
}
