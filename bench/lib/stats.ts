/** Percentile of already collected samples (nearest rank), in the samples' unit. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const round = (value: number, digits = 2): number => {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
};

export const rssMb = (): number => round(process.memoryUsage().rss / 1024 / 1024, 1);

/** A plain aligned table: the first row is the header. */
export function printTable(title: string, rows: readonly (readonly (string | number)[])[]): void {
  const text = rows.map((row) => row.map((cell) => String(cell)));
  const widths = text[0]!.map((_, col) => Math.max(...text.map((row) => (row[col] ?? '').length)));
  const line = (row: string[]): string =>
    row
      .map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!)))
      .join('  ');
  console.log(`\n${title}`);
  console.log(line(text[0]!));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of text.slice(1)) console.log(line(row));
}

/** The machine-readable result: always the last line a scenario prints. */
export function printResult(result: Record<string, string | number | null>): void {
  console.log(JSON.stringify(result));
}

/** The middle value (the mean of the two middle ones for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Each system once per round, in the same order every round: the speed of a shared machine drifts
 * within minutes (2× here), so a ratio is only fair between runs made side by side. A system
 * that cannot run (`null`) stays null in every round.
 */
export async function interleave<R>(
  rounds: number,
  systems: readonly (readonly [string, () => Promise<R | null>])[],
): Promise<Map<string, (R | null)[]>> {
  const results = new Map<string, (R | null)[]>(systems.map(([name]) => [name, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const [name, run] of systems) {
      console.error(`round ${round}/${rounds}: ${name}…`);
      results.get(name)!.push(await run());
    }
  }
  return results;
}

/** Per-round ratios of `of` to `to` (rounds where either is missing are skipped). */
export function pairedRatios(
  of: readonly (number | null)[],
  to: readonly (number | null)[],
): number[] {
  return of.flatMap((value, i) => {
    const base = to[i];
    return value === null || base === null || base === undefined ? [] : [value / base];
  });
}
