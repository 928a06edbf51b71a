import { isPostgresUrl } from '../config/config.js';
import { SqliteStore } from './sqlite/index.js';
import type { Store } from './store.js';

/** A `postgres://` URL selects PostgreSQL; anything else is a SQLite file path. */
export async function openStore(db: string): Promise<Store> {
  if (isPostgresUrl(db)) {
    const { PostgresStore } = await import('./postgres/index.js');
    return new PostgresStore({ connectionString: db });
  }
  return new SqliteStore({ file: db });
}
