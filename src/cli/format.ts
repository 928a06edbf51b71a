import type { Task } from '../client/index.js';

export function formatTaskTable(tasks: readonly Task[]): string {
  const rows = tasks.map((t) => [
    t.id,
    t.type,
    t.status,
    `${t.progress}%`,
    t.created_at,
    t.error_message ?? t.message,
  ]);
  const header = ['ID', 'TYPE', 'STATUS', 'PROG', 'CREATED', 'MESSAGE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  widths[5] = Math.min(widths[5] ?? 0, 60);
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.slice(0, 60).padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function formatTask(t: Task): string {
  return [
    `${t.id}  ${t.type}  ${t.status}  ${t.progress}%  priority ${t.priority}  attempts ${t.attempts}/${t.max_attempts}`,
    `  created ${t.created_at}${t.started_at ? `  started ${t.started_at}` : ''}${t.completed_at ? `  ended ${t.completed_at}` : ''}`,
    t.message ? `  message: ${t.message}` : '',
    t.error_message ? `  error: ${t.error_message}` : '',
    `  config: ${JSON.stringify(t.config)}`,
    t.result !== null ? `  result: ${JSON.stringify(t.result)}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}
