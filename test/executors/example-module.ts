/**
 * A small but complete executor module, as a newcomer would write one: it digests the files of a
 * folder. It has every part a module can have — a config schema (the console's generated form),
 * a setting, its own table, a route and a CLI command — and none of it is named anywhere else.
 * The tests register it beside the built-in modules and find each part where users look.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { ErrorCode, TailorError } from '../../src/domain/errors.js';
import { confineUserPath } from '../../src/executors/paths.js';
import { defineExecutorModule, type StorageSpec } from '../../src/executors/module.js';
import type { ModuleSql } from '../../src/store/store.js';

const ChecksumConfig = Type.Object(
  {
    dir: Type.String({ minLength: 1, description: 'Folder whose files are digested' }),
    algorithm: Type.Optional(
      Type.Union([Type.Literal('sha256'), Type.Literal('sha1'), Type.Literal('md5')], {
        description: 'Hash; default: the CHECKSUM_ALGORITHM setting',
      }),
    ),
  },
  { additionalProperties: false },
);
type ChecksumConfig = Static<typeof ChecksumConfig>;

/** One row per finished run: what a user can list without reading every task's result. */
export class ChecksumHistory {
  constructor(private readonly sql: ModuleSql) {}

  private p(n: number): string {
    return this.sql.dialect === 'postgres' ? `$${n}` : '?';
  }

  async record(taskId: string, files: number, digest: string): Promise<void> {
    await this.sql.rows(
      `INSERT INTO checksum_runs (task_id, files, digest) VALUES (${this.p(1)}, ${this.p(2)}, ${this.p(3)})`,
      [taskId, files, digest],
    );
  }

  async list(): Promise<{ task_id: string; files: number; digest: string }[]> {
    const rows = await this.sql.rows<{ task_id: string; files: number | string; digest: string }>(
      'SELECT task_id, files, digest FROM checksum_runs ORDER BY task_id',
    );
    return rows.map((row) => ({ ...row, files: Number(row.files) }));
  }
}

const TABLE = `CREATE TABLE checksum_runs (
  task_id TEXT NOT NULL PRIMARY KEY, files INTEGER NOT NULL, digest TEXT NOT NULL)`;

const historyRoutes: FastifyPluginAsyncTypebox<{ history: ChecksumHistory }> = async (
  app,
  { history },
) => {
  app.get(
    '/api/checksum/history',
    {
      schema: {
        tags: ['checksum'],
        summary: 'Finished checksum runs',
        response: {
          200: Type.Object({
            status: Type.Object({ code: Type.Integer(), message: Type.String() }),
            data: Type.Object({
              runs: Type.Array(
                Type.Object({
                  task_id: Type.String(),
                  files: Type.Integer(),
                  digest: Type.String(),
                }),
              ),
            }),
          }),
        },
      },
    },
    async () => ({ status: { code: 0, message: 'success' }, data: { runs: await history.list() } }),
  );
};

export const checksumStorage: StorageSpec<ChecksumHistory> = {
  migrations: {
    sqlite: [{ version: 1, name: 'checksum_runs', sql: TABLE }],
    postgres: [{ version: 1, name: 'checksum_runs', sql: TABLE }],
  },
  open: (sql) => new ChecksumHistory(sql),
};

const SETTINGS = {
  checksumAlgorithm: {
    env: 'CHECKSUM_ALGORITHM',
    default: 'sha256',
    description: 'Hash used when a task names none',
  },
};

export const checksumModule = defineExecutorModule<
  ChecksumConfig,
  typeof SETTINGS,
  ChecksumHistory
>({
  type: 'checksum',
  description: 'Digest the files of a folder',
  schema: ChecksumConfig,
  settings: SETTINGS,
  storage: checksumStorage,
  executor: (ctx) => ({
    run: async (run) => {
      const dir = await confineUserPath(run.config.dir, ctx, '/config/dir');
      const names = (await readdir(dir, { withFileTypes: true }))
        .filter((entry) => entry.isFile())
        .map((entry) => entry.name)
        .sort();
      const algorithm = run.config.algorithm ?? ctx.settings.checksumAlgorithm;
      const all = createHash(algorithm);
      for (const [i, name] of names.entries()) {
        if (run.signal.aborted) break;
        all.update(name).update(await readFile(join(dir, name)));
        run.progress(((i + 1) / names.length) * 100, `${i + 1}/${names.length} files`);
      }
      const digest = all.digest('hex');
      await ctx.storage.record(run.task.id, names.length, digest);
      return { files: names.length, algorithm, digest };
    },
  }),
  routes: (ctx) => async (app) => {
    await app.register(historyRoutes, { history: ctx.storage });
    app.post('/api/checksum/create', async (request) => {
      const body = request.body as { dir?: unknown };
      if (typeof body?.dir !== 'string')
        throw new TailorError(ErrorCode.VALIDATION, '/dir must be a string');
      return {
        status: { code: 0, message: 'success' },
        data: await ctx.tasks.create({ type: 'checksum', config: { dir: body.dir } }),
      };
    });
  },
  cli: (program, cli) => {
    program
      .command('checksum <dir>')
      .description('digest the files of a folder on the server')
      .option('--watch', 'follow the task until it ends')
      .action(async (dir: string, o: { watch?: boolean }) => {
        const task = await cli.client().createTask('checksum', { dir });
        cli.printTask(task);
        if (o.watch) process.exitCode = cli.exitCodeOf(await cli.watch(task.id));
      });
  },
});
