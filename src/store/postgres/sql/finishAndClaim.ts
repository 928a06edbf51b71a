import { newClaimToken } from '../../../domain/ids.js';
import type { Task } from '../../../domain/task.js';
import type { ClaimedTask, Finish, FinishAndClaim, FinishAndClaimResult } from '../../store.js';
import type { PgDb } from '../database.js';
import { pgTextOrNull, toJsonText, toTask, type TaskRow } from '../rows.js';

interface HandOffRow extends TaskRow {
  step: 'finished' | 'claimed';
  log_seq: number | null;
  log_time: string | null;
  log_message: string | null;
}

/**
 * Fenced finishes, then a claim of the head of every requested lane that has no running task,
 * each claimed attempt with its first log line — one call of `tailor_finish_and_claim` (its one
 * current source: migration 8, `0008_hand_off_restated.ts`), so one round trip and one commit.
 * Finishes that lost their fence change nothing.
 */
export async function finishAndClaim(
  db: PgDb,
  request: FinishAndClaim,
): Promise<FinishAndClaimResult> {
  const finishes = firstFinishOfEachAttempt(request.finishes);
  const lanes = [...new Set(request.claim?.types ?? [])].sort();
  if (finishes.length === 0 && lanes.length === 0) return { finished: [], claimed: [] };
  const rows = await db.prepared<HandOffRow>(
    'tailor_finish_and_claim',
    `SELECT * FROM tailor_finish_and_claim($1::text[], $2::text[], $3::text[], $4::text[],
       $5::text[], $11::text[], $6::text[], $7::text[], $8, $9, $10)`,
    [
      finishes.map((f) => f.taskId),
      finishes.map((f) => f.token),
      finishes.map((f) => f.status),
      finishes.map((f) => toJsonText(f.result)),
      finishes.map((f) => pgTextOrNull(f.errorMessage)),
      lanes,
      lanes.map(() => newClaimToken()),
      request.claim?.owner.node ?? null,
      request.claim?.owner.instance ?? null,
      request.claim?.leaseMs ?? 0,
      finishes.map((f) => pgTextOrNull(f.message)),
    ],
  );
  const finishOrder = new Map(finishes.map((f, i) => [f.taskId, i]));
  const laneOrder = new Map(lanes.map((type, i) => [type, i]));
  const finished: Task[] = [];
  const claimed: ClaimedTask[] = [];
  for (const row of rows) {
    const task = toTask(row);
    if (row.step === 'finished') {
      finished.push(task);
    } else {
      claimed.push({
        task,
        token: row.claim_token!,
        log: {
          task_id: task.id,
          seq: row.log_seq!,
          time: row.log_time!,
          level: 'info',
          message: row.log_message!,
        },
      });
    }
  }
  finished.sort((a, b) => finishOrder.get(a.id)! - finishOrder.get(b.id)!);
  claimed.sort((a, b) => laneOrder.get(a.task.type)! - laneOrder.get(b.task.type)!);
  return { finished, claimed };
}

/** Applied one after another, only the first finish of an attempt would match; keep just that. */
function firstFinishOfEachAttempt(finishes: readonly Finish[]): Finish[] {
  const first = new Map<string, Finish>();
  for (const finish of finishes) {
    const key = `${finish.taskId}\n${finish.token}`;
    if (!first.has(key)) first.set(key, finish);
  }
  return [...first.values()];
}
