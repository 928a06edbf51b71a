/**
 * The conformance harness for executor modules' own storage: each test gets a fresh SQLite file
 * and a fresh PostgreSQL schema (skipped loudly when PostgreSQL is unreachable, a failure under
 * TAILOR_REQUIRE_PG=1), with the core and the module's migrations applied, and receives the
 * module's storage object. A module's suite is written once and runs on both stores.
 *
 *   runModuleStorageConformance('generate configs', spec, (it) => {
 *     it('a config round-trips', async ({ storage }) => { … });
 *   });
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { StorageSpec } from '../../src/executors/module.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/store.js';
import { createTestSchema, postgresSkipReason } from './pg-harness.js';

export interface ModuleStorageCtx<Storage> {
  storage: Storage;
  /** The same database through a second store instance with the migrations applied again. */
  reopen(): Promise<Storage>;
}

export type ModuleIt<Storage> = (
  name: string,
  body: (ctx: ModuleStorageCtx<Storage>) => Promise<void>,
) => void;

interface Engine {
  name: 'sqlite' | 'postgres';
  skip(): Promise<string | undefined>;
  fresh(): Promise<{ open(): Store; dispose(): Promise<void> }>;
}

const ENGINES: Engine[] = [
  {
    name: 'sqlite',
    skip: async () => undefined,
    async fresh() {
      const dir = await mkdtemp(join(tmpdir(), 'tailor-module-store-'));
      return {
        open: () => new SqliteStore({ file: join(dir, 'tailor.db') }),
        dispose: () => rm(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'postgres',
    skip: postgresSkipReason,
    async fresh() {
      const schema = await createTestSchema();
      return {
        open: () => new PostgresStore({ connectionString: schema.url, poolSize: 2 }),
        dispose: () => schema.dispose(),
      };
    },
  },
];

export function runModuleStorageConformance<Storage>(
  module: string,
  spec: StorageSpec<Storage>,
  suite: (it: ModuleIt<Storage>) => void,
): void {
  for (const engine of ENGINES) {
    describe(`${module} storage conformance: ${engine.name}`, async () => {
      const skip = await engine.skip();
      const it: ModuleIt<Storage> = (name, body) =>
        test(name, { skip: skip ?? false }, async () => {
          const database = await engine.fresh();
          const opened: Store[] = [];
          const open = async (): Promise<Storage> => {
            const store = database.open();
            opened.push(store);
            await store.migrate();
            const sql = store.moduleSql();
            await sql.migrate(module, spec.migrations[sql.dialect]);
            return spec.open(sql);
          };
          try {
            await body({ storage: await open(), reopen: open });
          } finally {
            for (const store of opened) await store.close().catch(() => undefined);
            await database.dispose();
          }
        });
      suite(it);
    });
  }
}
