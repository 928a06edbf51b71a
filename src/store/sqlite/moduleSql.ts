import type { ModuleMigration, ModuleSql, SqlParam } from '../store.js';
import type { SqliteDb } from './database.js';
import { migrateModule } from './migrate.js';

/** Module SQL on the embedded store: `?` placeholders; a write commits before it resolves. */
export function sqliteModuleSql(db: SqliteDb): ModuleSql {
  return {
    dialect: 'sqlite',
    async rows<Row extends object>(sql: string, params: readonly SqlParam[] = []): Promise<Row[]> {
      const statement = db.stmt(sql);
      const values = params.map((p) => (typeof p === 'boolean' ? Number(p) : p));
      if (statement.reader) return statement.all(...values) as Row[];
      statement.run(...values);
      return [];
    },
    async migrate(module: string, migrations: readonly ModuleMigration[]): Promise<void> {
      migrateModule(db, module, migrations);
    },
  };
}
