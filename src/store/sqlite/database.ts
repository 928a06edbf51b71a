import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** A better-sqlite3 connection with the pragmas this project relies on and a statement cache. */
export class SqliteDb {
  readonly raw: Database.Database;
  private readonly statements = new Map<string, Statement>();

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.raw = new Database(file);
    // WAL + synchronous=NORMAL: a commit survives the process being killed (SIGKILL), which is
    // the durability the scheduler promises; readers never block the single writer.
    this.raw.pragma('journal_mode = WAL');
    this.raw.pragma('synchronous = NORMAL');
    this.raw.pragma('foreign_keys = ON');
    this.raw.pragma('busy_timeout = 5000');
  }

  /** Prepared once per SQL text; queries are static strings, so the cache stays small. */
  stmt(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.raw.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** BEGIN IMMEDIATE: take the write lock up front so two processes cannot both read-then-write. */
  transaction<T>(fn: () => T): T {
    return this.raw.transaction(fn).immediate();
  }

  close(): void {
    this.raw.close();
  }
}
