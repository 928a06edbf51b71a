import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const BENCH_PG_URL =
  process.env.TAILOR_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A throwaway schema, so a run never meets earlier data; dropped by `dispose`. */
export async function freshSchema(): Promise<{ url: string; dispose(): Promise<void> }> {
  const schema = `tailor_bench_${randomBytes(5).toString('hex')}`;
  await admin(`CREATE SCHEMA ${schema}`);
  const url = new URL(BENCH_PG_URL);
  url.searchParams.set('schema', schema);
  return { url: url.toString(), dispose: () => admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`) };
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: BENCH_PG_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
