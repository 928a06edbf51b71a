import { randomBytes } from 'node:crypto';
import type { Task, TaskLog, TerminalStatus } from '../../domain/task.js';
import type {
  FinishAndClaim,
  FinishAndClaimResult,
  LeaseReport,
  ListQuery,
  ModuleSql,
  NewLogLine,
  NewTask,
  Owner,
  ProgressUpdate,
  RecoveryResult,
  Release,
  Store,
} from '../store.js';
import { TurnBatcher } from './batcher.js';
import { isConnectionLoss, PgDb } from './database.js';
import { migrate } from './migrate.js';
import { postgresModuleSql } from './moduleSql.js';
import { cancelPending } from './sql/cancelPending.js';
import { cleanupTasks, deleteTask } from './sql/deleteTask.js';
import { finishAndClaim } from './sql/finishAndClaim.js';
import { getTask } from './sql/getTask.js';
import { insertTasks } from './sql/insertTask.js';
import { listTasks } from './sql/listTasks.js';
import { recoverOrphans } from './sql/recoverOrphans.js';
import { releaseTask } from './sql/releaseTask.js';
import { renewLeases } from './sql/renewLeases.js';
import { requestCancel } from './sql/requestCancel.js';
import { rerunTask } from './sql/rerunTask.js';
import { appendLogs, listLogs } from './sql/taskLogs.js';
import { updateProgress } from './sql/updateProgress.js';
import { resolveTarget } from './target.js';

export { PgNotifications } from './notifications.js';

export interface PostgresStoreOptions {
  /** `postgres://…`; a `schema` query parameter is honoured like the `schema` option. */
  connectionString: string;
  /** Tables live in this schema (created by `migrate()`); default: the server's search_path. */
  schema?: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** Shown in pg_stat_activity (default `pixivtailor`). */
  applicationName?: string;
  /** A pooled connection failed outside a query (server restart, dropped socket). */
  onError?: (error: Error) => void;
  /** Names this store's writes in cluster events (default: random); letters and digits only. */
  origin?: string;
}

const reportToStderr = (error: Error): void => {
  console.error(`[pixivtailor] PostgreSQL connection error: ${error.message}`);
};

/**
 * The cluster store: several servers share one PostgreSQL database. Every lifecycle change is one
 * statement or one transaction; times that nodes compare (leases) come from the database clock,
 * so nodes with skewed clocks agree. Each change that gives a lane work or asks for a stop sends
 * a NOTIFY (see `channels.ts`) in the same transaction.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly db: PgDb;
  readonly schema: string | null;
  /** The server URL without the schema (for connections of its own, such as LISTEN). */
  readonly connectionString: string;
  /** Sent with every event this store's writes cause, so the cluster bridge can skip its own. */
  readonly origin: string;
  private closed = false;
  private readonly inserts = new TurnBatcher<NewTask, Task>(
    (inputs) => insertTasks(this.db, inputs),
    isConnectionLoss,
  );

  constructor(options: PostgresStoreOptions) {
    const target = resolveTarget(options.connectionString, options.schema);
    this.schema = target.schema;
    this.connectionString = target.connectionString;
    this.origin = options.origin ?? randomBytes(8).toString('hex');
    if (!/^[A-Za-z0-9]+$/.test(this.origin))
      throw new Error('the store origin must be letters and digits');
    this.db = new PgDb({
      origin: this.origin,
      connectionString: target.connectionString,
      schema: target.schema,
      poolSize: options.poolSize ?? 10,
      applicationName: options.applicationName ?? 'pixivtailor',
      onError: options.onError ?? reportToStderr,
    });
  }

  async migrate(): Promise<void> {
    await migrate(this.db, this.schema);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.end();
  }

  moduleSql(): ModuleSql {
    return postgresModuleSql(this.db, this.schema);
  }

  async ping(): Promise<void> {
    await this.db.idempotent(() => this.db.rows('SELECT 1'));
  }

  async createTask(input: NewTask): Promise<Task> {
    return this.inserts.add(input);
  }

  async getTask(id: string): Promise<Task | null> {
    return this.db.idempotent(() => getTask(this.db, id));
  }

  async listTasks(query: ListQuery): Promise<{ tasks: Task[]; total: number }> {
    return this.db.idempotent(() => listTasks(this.db, query));
  }

  async finishAndClaim(request: FinishAndClaim): Promise<FinishAndClaimResult> {
    return this.db.retrying(() => finishAndClaim(this.db, request));
  }

  async release(releases: readonly Release[]): Promise<Task[]> {
    if (releases.length === 0) return [];
    return this.db.transaction(async (tx) => {
      const released: Task[] = [];
      for (const release of releases) {
        const task = await releaseTask(tx, release);
        if (task) released.push(task);
      }
      return released;
    });
  }

  async updateProgress(updates: readonly ProgressUpdate[]): Promise<Task[]> {
    return updateProgress(this.db, updates);
  }

  async renewLeases(owner: Owner, leaseMs: number): Promise<LeaseReport> {
    return this.db.idempotent(() => renewLeases(this.db, owner, leaseMs));
  }

  async recoverOrphans(owner: Owner): Promise<RecoveryResult> {
    return recoverOrphans(this.db, owner);
  }

  async cancelPending(id: string, reason: string): Promise<Task | null> {
    return cancelPending(this.db, id, reason);
  }

  async requestCancel(id: string): Promise<Task | null> {
    return requestCancel(this.db, id);
  }

  async rerun(id: string): Promise<Task | null> {
    return rerunTask(this.db, id);
  }

  async deleteTask(id: string): Promise<'deleted' | 'running' | 'missing'> {
    return deleteTask(this.db, id);
  }

  async cleanup(statuses: readonly TerminalStatus[]): Promise<{ id: string; type: string }[]> {
    return cleanupTasks(this.db, statuses);
  }

  async appendLogs(lines: readonly NewLogLine[]): Promise<TaskLog[]> {
    if (lines.length === 0) return [];
    return this.db.transaction((tx) => appendLogs(tx, lines));
  }

  async listLogs(taskId: string, afterSeq: number, limit: number): Promise<TaskLog[]> {
    return this.db.idempotent(() => listLogs(this.db, taskId, afterSeq, limit));
  }
}
