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
import { SqliteDb } from './database.js';
import { migrate } from './migrate.js';
import { sqliteModuleSql } from './moduleSql.js';
import { cancelPending } from './sql/cancelPending.js';
import { claimNextInLane } from './sql/claimNextInLane.js';
import { cleanupTasks, deleteTask } from './sql/deleteTask.js';
import { finishTask } from './sql/finishTask.js';
import { getTask } from './sql/getTask.js';
import { insertTask } from './sql/insertTask.js';
import { listTasks } from './sql/listTasks.js';
import { recoverOrphans } from './sql/recoverOrphans.js';
import { releaseTask } from './sql/releaseTask.js';
import { renewLeases } from './sql/renewLeases.js';
import { requestCancel } from './sql/requestCancel.js';
import { rerunTask } from './sql/rerunTask.js';
import { appendLog, listLogs } from './sql/taskLogs.js';
import { updateProgress } from './sql/updateProgress.js';

export interface SqliteStoreOptions {
  /** Database file, or ':memory:'. */
  file: string;
  /** Milliseconds since the epoch; injectable so lease tests need not sleep. */
  clock?: () => number;
}

/**
 * The embedded store. better-sqlite3 is synchronous, so every method runs to completion before
 * another starts; the async signatures exist so the PostgreSQL store fits the same interface.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly db: SqliteDb;
  private readonly clock: () => number;

  constructor(options: SqliteStoreOptions) {
    this.db = new SqliteDb(options.file);
    this.clock = options.clock ?? Date.now;
  }

  private now(): string {
    return new Date(this.clock()).toISOString();
  }

  async migrate(): Promise<void> {
    migrate(this.db);
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  moduleSql(): ModuleSql {
    return sqliteModuleSql(this.db);
  }

  async ping(): Promise<void> {
    this.db.stmt('SELECT 1').get();
  }

  async createTask(input: NewTask): Promise<Task> {
    return this.db.batch(() => insertTask(this.db, input, this.now()));
  }

  async getTask(id: string): Promise<Task | null> {
    return getTask(this.db, id);
  }

  async listTasks(query: ListQuery): Promise<{ tasks: Task[]; total: number }> {
    return listTasks(this.db, query);
  }

  async finishAndClaim(request: FinishAndClaim): Promise<FinishAndClaimResult> {
    if (request.finishes.length === 0 && !request.claim?.types.length) {
      return { finished: [], claimed: [] };
    }
    return this.db.batchNow(() => {
      const now = this.now();
      const finished: Task[] = [];
      for (const finish of request.finishes) {
        const task = finishTask(this.db, finish, now);
        if (task) finished.push(task);
      }
      const claimed = [];
      if (request.claim) {
        const { owner, leaseMs } = request.claim;
        const expires = this.clock() + leaseMs;
        for (const type of request.claim.types) {
          const claim = claimNextInLane(this.db, type, owner, expires, now);
          if (claim) claimed.push(claim);
        }
      }
      return { finished, claimed };
    });
  }

  async release(releases: readonly Release[]): Promise<Task[]> {
    return this.db.batch(() => {
      const now = this.now();
      return releases
        .map((release) => releaseTask(this.db, release, now))
        .filter((t): t is Task => t !== null);
    });
  }

  async updateProgress(updates: readonly ProgressUpdate[]): Promise<Task[]> {
    return this.db.batch(() => {
      const now = this.now();
      const changed: Task[] = [];
      for (const update of updates) {
        const task = updateProgress(this.db, update, now);
        if (task) changed.push(task);
      }
      return changed;
    });
  }

  async renewLeases(owner: Owner, leaseMs: number): Promise<LeaseReport> {
    return renewLeases(this.db, owner, this.clock() + leaseMs);
  }

  async recoverOrphans(owner: Owner): Promise<RecoveryResult> {
    return this.db.transaction(() => recoverOrphans(this.db, owner, this.clock(), this.now()));
  }

  async cancelPending(id: string, reason: string): Promise<Task | null> {
    return cancelPending(this.db, id, reason, this.now());
  }

  async requestCancel(id: string): Promise<Task | null> {
    return requestCancel(this.db, id, this.now());
  }

  async rerun(id: string): Promise<Task | null> {
    return this.db.transaction(() => rerunTask(this.db, id, this.now()));
  }

  async deleteTask(id: string): Promise<'deleted' | 'running' | 'missing'> {
    return this.db.transaction(() => deleteTask(this.db, id));
  }

  async cleanup(statuses: readonly TerminalStatus[]): Promise<{ id: string; type: string }[]> {
    return this.db.transaction(() => cleanupTasks(this.db, statuses));
  }

  async appendLogs(lines: readonly NewLogLine[]): Promise<TaskLog[]> {
    if (lines.length === 0) return [];
    return this.db.batch(() => {
      const now = this.now();
      const written: TaskLog[] = [];
      for (const line of lines) {
        const log = appendLog(this.db, line, now);
        if (log) written.push(log);
      }
      return written;
    });
  }

  async listLogs(taskId: string, afterSeq: number, limit: number): Promise<TaskLog[]> {
    return listLogs(this.db, taskId, afterSeq, limit);
  }
}
