import type { LeaseReport, Owner } from '../../store.js';
import type { Sql } from '../database.js';

/**
 * Extend, by the database clock, the lease of every task this instance runs. Rows are locked in
 * `seq` order, the order recovery uses too, so the two cannot deadlock.
 */
export async function renewLeases(sql: Sql, owner: Owner, leaseMs: number): Promise<LeaseReport> {
  const rows = await sql.rows<{ id: string; cancel_requested: boolean }>(
    `WITH held AS (
       SELECT seq FROM tasks WHERE owner_instance = $1 AND status = 'running' ORDER BY seq FOR NO KEY UPDATE
     )
     UPDATE tasks SET lease_expires_at = clock_timestamp() + $2::float8 * interval '1 millisecond'
       FROM held
      WHERE tasks.seq = held.seq
     RETURNING id, cancel_requested`,
    [owner.instance, leaseMs],
  );
  return {
    held: rows.map((row) => row.id),
    cancelRequested: rows.filter((row) => row.cancel_requested).map((row) => row.id),
  };
}
