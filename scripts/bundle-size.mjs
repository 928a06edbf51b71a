#!/usr/bin/env node
// The console's first-load budget: the gzip size of every JS and CSS file a browser fetches to
// show the Tasks page (index.html's entry, its static imports, the Tasks page chunk, and the
// modules' small console entries the navigation loads at start). Reads Vite's manifest from a
// built web/dist; exits 1 above the budget. `--json` prints the numbers for tests.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const BUDGET_BYTES = 300 * 1024;
const DIST = new URL('../web/dist/', import.meta.url).pathname;
const MANIFEST = join(DIST, '.vite', 'manifest.json');
const TASKS_PAGE = 'src/tasks/TasksPage.tsx';
const MODULE_ENTRY = /executors\/[^/]+\/console\/index\.tsx$/;

export function firstLoad(manifest) {
  const files = new Set();
  const visit = (key) => {
    const chunk = manifest[key];
    if (!chunk || files.has(chunk.file)) return;
    files.add(chunk.file);
    for (const css of chunk.css ?? []) files.add(css);
    for (const imported of chunk.imports ?? []) visit(imported);
  };
  const entry = Object.keys(manifest).find((key) => manifest[key].isEntry);
  if (!entry) throw new Error('no entry in the manifest');
  visit(entry);
  visit(TASKS_PAGE);
  for (const key of Object.keys(manifest)) if (MODULE_ENTRY.test(key)) visit(key);
  if (![...files].some((file) => file === manifest[TASKS_PAGE]?.file))
    throw new Error(`${TASKS_PAGE} is not a chunk of its own`);
  return [...files];
}

function main() {
  if (!existsSync(MANIFEST)) {
    console.error(`no ${MANIFEST}: build first (npx vite build --config web/vite.config.ts)`);
    process.exit(2);
  }
  const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8'));
  const sizes = firstLoad(manifest).map((file) => {
    const bytes = readFileSync(join(DIST, file));
    return { file, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  });
  const html = readFileSync(join(DIST, 'index.html'));
  sizes.push({ file: 'index.html', raw: html.length, gzip: gzipSync(html, { level: 9 }).length });
  const total = sizes.reduce((sum, size) => sum + size.gzip, 0);
  const report = { budget: BUDGET_BYTES, total, files: sizes.sort((a, b) => b.gzip - a.gzip) };
  if (process.argv.includes('--json')) console.log(JSON.stringify(report));
  else {
    for (const size of report.files)
      console.log(`${(size.gzip / 1024).toFixed(1).padStart(8)} kB gzip  ${size.file}`);
    console.log(
      `${(total / 1024).toFixed(1).padStart(8)} kB gzip  first load of the Tasks page (budget ${BUDGET_BYTES / 1024} kB)`,
    );
  }
  if (total > BUDGET_BYTES) {
    console.error(`over budget by ${((total - BUDGET_BYTES) / 1024).toFixed(1)} kB`);
    process.exit(1);
  }
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) main();
