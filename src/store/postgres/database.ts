import pg from 'pg';
import type { QueryResultRow } from 'pg';

/** Something that runs one statement: the pool (autocommit) or the client of a transaction. */
export interface Sql {
  rows<R extends QueryResultRow>(text: string, values?: readonly unknown[]): Promise<R[]>;
}

export interface PgDbOptions {
  connectionString: string;
  /** Every pooled connection starts with `search_path` set to it. */
  schema: string | null;
  poolSize: number;
  applicationName: string;
  onError: (error: Error) => void;
  /** Every pooled connection sets `tailor.origin` to it: cluster events name their writer. */
  origin?: string;
}

/** SQLSTATEs after which PostgreSQL has rolled the whole transaction back, so it can be retried. */
const RETRYABLE = new Set(['40P01' /* deadlock_detected */, '40001' /* serialization_failure */]);
const MAX_TRANSACTION_ATTEMPTS = 3;

export function sqlState(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}

/**
 * A pg pool configured for this store. Errors of idle or checked-out connections (the server
 * restarted, a proxy dropped the socket) are reported through `onError` instead of crashing the
 * process: pg emits them as `error` events, which are fatal when nobody listens.
 */
export class PgDb implements Sql {
  readonly pool: pg.Pool;
  private readonly onError: (error: Error) => void;

  constructor(options: PgDbOptions) {
    this.onError = options.onError;
    const startupOptions: string[] = [];
    if (options.schema) startupOptions.push(`-c search_path=${options.schema}`);
    if (options.origin) startupOptions.push(`-c tailor.origin=${options.origin}`);
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolSize,
      application_name: options.applicationName,
      // Startup parameters, so the very first statement of a new connection already sees them.
      ...(startupOptions.length ? { options: startupOptions.join(' ') } : {}),
    });
    this.pool.on('error', (error) => this.onError(error));
    this.pool.on('connect', (client) => client.on('error', (error) => this.onError(error)));
  }

  async rows<R extends QueryResultRow>(
    text: string,
    values: readonly unknown[] = [],
  ): Promise<R[]> {
    return (await this.pool.query<R>(text, values as unknown[])).rows;
  }

  /**
   * One statement in its own implicit transaction, run again should PostgreSQL roll it back for
   * a deadlock or a serialization failure (it must not have effects outside the database).
   */
  async retrying<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        const state = sqlState(error);
        if (!state || !RETRYABLE.has(state) || attempt >= MAX_TRANSACTION_ATTEMPTS) throw error;
      }
    }
  }

  /**
   * BEGIN … COMMIT on one connection. A deadlock or serialization failure rolled everything back,
   * so the whole function is run again (it must not have effects outside the database).
   */
  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const value = await fn(new Transaction(client));
        await client.query('COMMIT');
        return value;
      } catch (error) {
        // If even ROLLBACK fails the connection itself is gone: destroy it rather than reuse it.
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        const state = sqlState(error);
        if (state && RETRYABLE.has(state) && attempt < MAX_TRANSACTION_ATTEMPTS) continue;
        throw error;
      } finally {
        client.release(broken);
      }
    }
  }

  async end(): Promise<void> {
    await this.pool.end();
  }
}

export class Transaction implements Sql {
  private savepoints = 0;

  constructor(readonly client: pg.PoolClient) {}

  async rows<R extends QueryResultRow>(
    text: string,
    values: readonly unknown[] = [],
  ): Promise<R[]> {
    return (await this.client.query<R>(text, values as unknown[])).rows;
  }

  /**
   * Run `fn` under a SAVEPOINT. If it fails with one of `tolerated` SQLSTATEs, only its own work
   * is undone and `onTolerated` is returned; the transaction carries on.
   */
  async savepoint<T>(
    fn: () => Promise<T>,
    tolerated: ReadonlySet<string>,
    onTolerated: T,
  ): Promise<T> {
    const name = `sp_${++this.savepoints}`;
    await this.client.query(`SAVEPOINT ${name}`);
    try {
      const value = await fn();
      await this.client.query(`RELEASE SAVEPOINT ${name}`);
      return value;
    } catch (error) {
      const state = sqlState(error);
      if (!state || !tolerated.has(state)) throw error;
      await this.client.query(`ROLLBACK TO SAVEPOINT ${name}`);
      await this.client.query(`RELEASE SAVEPOINT ${name}`);
      return onTolerated;
    }
  }
}
