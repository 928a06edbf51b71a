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
 * two transactions claiming overlapping lanes cannot deadlock on each other. It must be its own
 * statement: the claim that follows needs a snapshot taken after the lock was granted.
 */
export async function lockLanes(sql: Sql, sortedTypes: readonly string[]): Promise<void> {
  await sql.rows(
    `SELECT count(pg_advisory_xact_lock(${LANE_LOCK_CLASS}, hashtext(current_schema() || '.' || lane)))
       FROM (SELECT lane FROM unnest($1::text[]) WITH ORDINALITY AS l (lane, n) ORDER BY n) AS lanes`,
    [sortedTypes],
  );
}

/**
 * pending → running for the head of each lane (highest priority, then queue order), only if the
 * lane has no running task — all lanes in one statement. The partial unique index
 * `tasks_one_running_per_type` is the last word: should a claim race another one anyway (a
 * writer that skipped the lane lock), the statement fails with a unique violation; it is undone
 * under a savepoint and the lanes are retried one by one, each under its own savepoint, so the
 * lost lane gives nothing and the others — and the finishes before — survive.
 */
export async function claimLanes(
  tx: Transaction,
  types: readonly string[],
  owner: Owner,
  leaseMs: number,
): Promise<ClaimedTask[]> {
  const together = await tx.savepoint(
    () => claimHeads(tx, types, owner, leaseMs),
    LOST_CLAIM,
    null,
  );
  if (together) return together;
  const claimed: ClaimedTask[] = [];
  for (const type of types) {
    const one = await tx.savepoint(() => claimHeads(tx, [type], owner, leaseMs), LOST_CLAIM, []);
    claimed.push(...one);
  }
  return claimed;
}

/**
 * `NO KEY UPDATE`, not `UPDATE`: a log append holds a KEY SHARE lock on its task (the foreign
 * key), which must not make a claimer skip the head of the lane.
 */
async function claimHeads(
  sql: Sql,
  types: readonly string[],
  owner: Owner,
  leaseMs: number,
): Promise<ClaimedTask[]> {
  const rows = await sql.rows<TaskRow>(
    `WITH head AS (
       SELECT pick.seq, lane.token
         FROM unnest($1::text[], $2::text[]) AS lane (type, token)
        CROSS JOIN LATERAL (
          SELECT seq FROM tasks
           WHERE type = lane.type AND status = 'pending'
             AND NOT EXISTS (SELECT 1 FROM tasks AS busy WHERE busy.type = lane.type AND busy.status = 'running')
           ORDER BY priority DESC, queue_seq ASC
           LIMIT 1
             FOR NO KEY UPDATE SKIP LOCKED
        ) AS pick
     )
     UPDATE tasks
        SET version = version + 1, status = 'running', attempts = attempts + 1, progress = 0,
            message = '', result = NULL, error_message = NULL, owner = $3, owner_instance = $4,
            claim_token = head.token,
            lease_expires_at = clock_timestamp() + $5::float8 * interval '1 millisecond',
            cancel_requested = false, started_at = now(), completed_at = NULL, updated_at = now()
       FROM head
      WHERE tasks.seq = head.seq
     RETURNING ${TASK_COLUMNS}`,
    [types, types.map(() => newClaimToken()), owner.node, owner.instance, leaseMs],
  );
  const order = new Map(types.map((type, i) => [type, i]));
  return rows
    .map((row) => ({ task: toTask(row), token: row.claim_token! }))
    .sort((a, b) => order.get(a.task.type)! - order.get(b.task.type)!);
}
