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
