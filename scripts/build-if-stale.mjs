#!/usr/bin/env node
// `npm start` runs this first: it builds only what is older than its sources, so a restart with
// nothing changed starts at once instead of spending ~20 s on tsc and vite.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Newest mtime (ms) of the files under `paths`, skipping `skip` folders; 0 when none exist. */
export function newestMtime(paths, skip = []) {
  let newest = 0;
  const stack = paths.filter((path) => existsSync(path));
  while (stack.length) {
    const path = stack.pop();
    const stat = statSync(path);
    if (stat.isDirectory()) {
      if (skip.some((dir) => resolve(path) === resolve(dir))) continue;
      for (const name of readdirSync(path))
        if (name !== 'node_modules') stack.push(join(path, name));
    } else {
      newest = Math.max(newest, stat.mtimeMs);
    }
  }
  return newest;
}

/**
 * Which builds are stale under `root`: the server (`dist/`, from `src/`) when its entry point is
 * missing or older than any source or build setting; the console (`web/dist/`) likewise from
 * `web/` and `src/` (it imports the client and the domain types).
 */
export function staleBuilds(root) {
  const at = (...parts) => join(root, ...parts);
  const settings = [at('package.json'), at('package-lock.json'), at('tsconfig.json')];
  const output = (file) => (existsSync(file) ? statSync(file).mtimeMs : -1);
  const server =
    output(at('dist', 'cli', 'main.js')) <
    newestMtime([at('src'), at('tsconfig.build.json'), ...settings]);
  const web =
    output(at('web', 'dist', 'index.html')) <
    newestMtime([at('web'), at('src'), ...settings], [at('web', 'dist')]);
  return { server, web };
}

function run(command, args, root) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(fileURLToPath(import.meta.url), '..', '..');
  const stale = staleBuilds(root);
  const bin = (name) => join(root, 'node_modules', '.bin', name);
  if (stale.server) run(bin('tsc'), ['-p', 'tsconfig.build.json'], root);
  if (stale.web) run(bin('vite'), ['build', '--config', 'web/vite.config.ts'], root);
  if (!stale.server && !stale.web) console.log('build is up to date (npm run build forces one)');
}
