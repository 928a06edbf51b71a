/**
 * Connect-or-skip for tests that need PostgreSQL, and throwaway schemas so concurrent runs never
 * collide. Reused by server-level cluster tests:
 *
 *   const skip = await postgresSkipReason();          // undefined when PostgreSQL answers
 *   describe('cluster', { skip }, () => {
 *     const schema = await createTestSchema();        // { url, connectionString, schema, dispose }
 *     // TAILOR_DB = schema.url  (its `schema` parameter is understood by PostgresStore)
 *     after(() => schema.dispose());
 *   });
 *
 * TAILOR_TEST_PG picks the server (default postgres://postgres@127.0.0.1:5432/test). When it is
 * unreachable the tests are skipped with a loud message — unless TAILOR_REQUIRE_PG=1, in which
 * case that is a failure.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEST_PG_URL = process.env.TAILOR_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
export const PG_REQUIRED = process.env.TAILOR_REQUIRE_PG === '1';

let probe: Promise<string | undefined> | null = null;

/** Undefined when PostgreSQL answers; otherwise why the PostgreSQL tests are skipped. */
export function postgresSkipReason(): Promise<string | undefined> {
  probe ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 3_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return undefined;
    } catch (error) {
      const reason = `PostgreSQL unreachable at ${redactUrl(TEST_PG_URL)}: ${(error as Error).message}`;
      if (PG_REQUIRED) throw new Error(`${reason} (TAILOR_REQUIRE_PG=1, so this is a failure)`);
      console.warn(
        [
          '',
          '!'.repeat(78),
          `!! SKIPPING PostgreSQL tests — ${reason}`,
          '!! Set TAILOR_TEST_PG to a reachable server, or TAILOR_REQUIRE_PG=1 to fail instead.',
          '!'.repeat(78),
          '',
        ].join('\n'),
      );
      return reason;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return probe;
}

export interface TestSchema {
  /** `tailor_test_<random>`, created empty. */
  schema: string;
  /** The server URL without the schema. */
  connectionString: string;
  /** The server URL with `?schema=…`, ready for TAILOR_DB or `new PostgresStore({ connectionString })`. */
  url: string;
  /** Drop the schema and everything in it. Close every connection using it first. */
  dispose(): Promise<void>;
}

/** A fresh, empty schema of its own for one test (or one test file). */
export async function createTestSchema(prefix = 'tailor_test'): Promise<TestSchema> {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  await admin(`CREATE SCHEMA ${schema}`);
  const url = new URL(TEST_PG_URL);
  url.searchParams.set('schema', schema);
  return {
    schema,
    connectionString: TEST_PG_URL,
    url: url.toString(),
    dispose: async () => {
      await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  };
}

/** Run one statement on a short-lived connection of its own (outside any store's pool). */
export async function admin(sql: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await client.query(sql, values);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return value;
  }
}

/**
 * Terminate every backend with this application name, and wait until they have exited, while
 * this process's event loop stands still: a child process does it synchronously. The pool then
 * still holds those connections as idle, their goodbye unread, exactly as after a server restart
 * the pool has not noticed yet. Returns how many backends were terminated.
 */
export function terminateBackendsBlocking(applicationName: string): number {
  const script = `
    const pg = require('pg');
    const client = new pg.Client({ connectionString: process.argv[1] });
    (async () => {
      await client.connect();
      const { rows } = await client.query(
        'SELECT pid FROM pg_stat_activity WHERE application_name = $1', [process.argv[2]]);
      const pids = rows.map((row) => row.pid);
      await client.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [pids]);
      for (;;) {
        const left = await client.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ANY($1)', [pids]);
        if (left.rows[0].n === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await client.end();
      process.stdout.write(String(pids.length));
    })().catch((error) => { console.error(error); process.exit(1); });`;
  const out = execFileSync(process.execPath, ['-e', script, TEST_PG_URL, applicationName], {
    encoding: 'utf8',
  });
  return Number(out);
}
