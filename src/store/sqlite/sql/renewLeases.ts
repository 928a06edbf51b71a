import type { LeaseReport, Owner } from '../../store.js';
import type { SqliteDb } from '../database.js';

export function renewLeases(db: SqliteDb, owner: Owner, leaseExpiresAt: number): LeaseReport {
  const rows = db
    .stmt(
      `UPDATE tasks SET lease_expires_at = ?
        WHERE owner_instance = ? AND status = 'running'
       RETURNING id, cancel_requested`,
    )
    .all(leaseExpiresAt, owner.instance) as { id: string; cancel_requested: number }[];
  return {
    held: rows.map((row) => row.id),
    cancelRequested: rows.filter((row) => row.cancel_requested).map((row) => row.id),
  };
}
