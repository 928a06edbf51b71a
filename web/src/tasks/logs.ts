import type { TaskLog } from '../../../src/client/index.js';

/** Keep at most this many lines in the drawer; the oldest go first. */
export const MAX_LOG_LINES = 5_000;

/**
 * Merge fetched and streamed log lines by `seq`: the fetch and the live events overlap while the
 * drawer opens, and either may arrive first.
 */
export function mergeLogs(current: readonly TaskLog[], incoming: readonly TaskLog[]): TaskLog[] {
  if (incoming.length === 0) return current as TaskLog[];
  const last = current.at(-1)?.seq ?? 0;
  let merged: TaskLog[];
  if (incoming.every((line) => line.seq > last) && isAscending(incoming)) {
    merged = [...current, ...incoming];
  } else {
    const bySeq = new Map<number, TaskLog>();
    for (const line of current) bySeq.set(line.seq, line);
    for (const line of incoming) bySeq.set(line.seq, line);
    merged = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  }
  return merged.length > MAX_LOG_LINES ? merged.slice(-MAX_LOG_LINES) : merged;
}

function isAscending(lines: readonly TaskLog[]): boolean {
  for (let i = 1; i < lines.length; i++) if (lines[i]!.seq <= lines[i - 1]!.seq) return false;
  return true;
}
