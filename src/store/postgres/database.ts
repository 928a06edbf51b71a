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

/**
 * The connection, not the statement, failed: the server ended the session (57P01 admin shutdown,
 * 57P02 crash shutdown, 57P03 cannot connect now), the socket broke (class 08), or pg saw the
 * socket close under a query (no SQLSTATE). A pooled connection killed while idle can be handed
 * out before Node has read the server's goodbye, and its next statement fails this way.
 */
export function isConnectionLoss(error: unknown): boolean {
  const state = sqlState(error);
  if (state) return state.startsWith('08') || /^57P0[123]$/.test(state);
  return error instanceof Error && /Connection terminated|ECONNRESET|EPIPE/.test(error.message);
}

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
    // A connection that dies emits `error` on its client up to twice (the server's goodbye, then
    // the socket's end), and pg-pool re-emits it on the pool when the client was idle. Each dead
    // connection is reported once, from its client; the pool's listener is only there because an
    // `error` event nobody listens to is fatal.
    this.pool.on('error', () => undefined);
    this.pool.on('connect', (client) => {
      let reported = false;
      client.on('error', (error) => {
        if (reported) return;
        reported = true;
        this.onError(error);
      });
    });
  }

  async rows<R extends QueryResultRow>(
    text: string,
    values: readonly unknown[] = [],
  ): Promise<R[]> {
    return (await this.pool.query<R>(text, values as unknown[])).rows;
  }

  /**
   * Like `rows`, as a named prepared statement: each connection parses and plans `text` once and
   * then only binds values. For the statements of the scheduler's hot path.
   */
  async prepared<R extends QueryResultRow>(
    name: string,
    text: string,
    values: readonly unknown[],
  ): Promise<R[]> {
    return (await this.pool.query<R>({ name, text, values: values as unknown[] })).rows;
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
   * A statement without effects (a read, or a write that sets what it sets again), run again on
   * another connection should the one it got turn out to be dead. Writes that are not idempotent
   * must not come here: a connection can die after COMMIT but before its reply.
   */
  async idempotent<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (!isConnectionLoss(error) || attempt >= this.pool.options.max + 1) throw error;
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
