import { newClaimToken } from '../../../domain/ids.js';
import type { ClaimedTask, Owner } from '../../store.js';
import type { Sql, Transaction } from '../database.js';
import { TASK_COLUMNS, toTask, type TaskRow } from '../rows.js';

/** Advisory-lock class of lane locks (the two-int4 form, so it never meets the migration lock). */
const LANE_LOCK_CLASS = 7_317;

/** The lane invariant's unique index said no: another transaction claimed this lane first. */
const LOST_CLAIM = new Set(['23505' /* unique_violation */, '40P01' /* deadlock_detected */]);

/**
 * Serialize claimers of the same lanes for the rest of the transaction. Without this, two nodes
 * skip each other's locked head (SKIP LOCKED) and the later one's pick — the second task of the
 * lane — could win the race on the unique index, breaking FIFO. Taken in one sorted sweep, so
 * two transactions claiming overlapping lanes cannot deadlock on each other.
 */
export async function lockLanes(sql: Sql, sortedTypes: readonly string[]): Promise<void> {
  await sql.rows(
    `SELECT count(pg_advisory_xact_lock(${LANE_LOCK_CLASS}, hashtext(current_schema() || '.' || lane)))
       FROM (SELECT lane FROM unnest($1::text[]) WITH ORDINALITY AS l (lane, n) ORDER BY n) AS lanes`,
    [sortedTypes],
  );
}

/**
 * pending → running for the head of one lane (highest priority, then queue order), only if the
 * lane has no running task. `NO KEY UPDATE`, not `UPDATE`: a log append holds a KEY SHARE lock on
 * its task (the foreign key), which must not make a claimer skip the head of the lane. The partial unique index `tasks_one_running_per_type` is the last
 * word: a claim that races another one anyway fails with a unique violation, which is a lost
 * claim (null), undone under a savepoint so the rest of the caller's transaction survives.
 */
export async function claimNextInLane(
  tx: Transaction,
  type: string,
  owner: Owner,
  leaseMs: number,
): Promise<ClaimedTask | null> {
  const token = newClaimToken();
  const row = await tx.savepoint(
    async () => {
      const [claimed] = await tx.rows<TaskRow>(
        `WITH head AS (
           SELECT seq FROM tasks
            WHERE type = $1 AND status = 'pending'
              AND NOT EXISTS (SELECT 1 FROM tasks AS busy WHERE busy.type = $1 AND busy.status = 'running')
            ORDER BY priority DESC, queue_seq ASC
            LIMIT 1
              FOR NO KEY UPDATE SKIP LOCKED
         )
         UPDATE tasks
            SET version = version + 1, status = 'running', attempts = attempts + 1, progress = 0,
                message = '', result = NULL, error_message = NULL, owner = $2, owner_instance = $3,
                claim_token = $4, lease_expires_at = clock_timestamp() + $5::float8 * interval '1 millisecond',
                cancel_requested = false, started_at = now(), completed_at = NULL, updated_at = now()
           FROM head
          WHERE tasks.seq = head.seq
         RETURNING ${TASK_COLUMNS}`,
        [type, owner.node, owner.instance, token, leaseMs],
      );
      return claimed ?? null;
    },
    LOST_CLAIM,
    null,
  );
  return row ? { task: toTask(row), token } : null;
}
