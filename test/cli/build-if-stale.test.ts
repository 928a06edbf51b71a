import assert from 'node:assert/strict';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { staleBuilds } from '../../scripts/build-if-stale.mjs';
import { tempDir } from '../helpers/server.js';

/** A project tree whose files all have the given mtimes (seconds since the epoch). */
function project(files: Record<string, number>): string {
  const root = tempDir('tailor-build-');
  for (const [path, mtime] of Object.entries(files)) {
    const file = join(root, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, '');
    utimesSync(file, mtime, mtime);
  }
  return root;
}

const built = {
  'package.json': 100,
  'src/server.ts': 100,
  'web/src/App.tsx': 100,
  'dist/cli/main.js': 200,
  'web/dist/index.html': 200,
};

test('npm start builds nothing when both builds are newer than every source', () => {
  assert.deepEqual(staleBuilds(project(built)), { server: false, web: false });
});

test('npm start builds everything on a fresh clone (no dist)', () => {
  assert.deepEqual(staleBuilds(project({ 'src/server.ts': 100, 'web/src/App.tsx': 100 })), {
    server: true,
    web: true,
  });
});

test('a changed console source rebuilds only the console; a changed server source both', () => {
  assert.deepEqual(staleBuilds(project({ ...built, 'web/src/App.tsx': 300 })), {
    server: false,
    web: true,
  });
  // The console imports the typed client from src/, so a change there may change it too.
  assert.deepEqual(staleBuilds(project({ ...built, 'src/client/index.ts': 300 })), {
    server: true,
    web: true,
  });
});

test('a newer lockfile rebuilds both; files inside web/dist never make the console stale', () => {
  assert.deepEqual(staleBuilds(project({ ...built, 'package-lock.json': 300 })), {
    server: true,
    web: true,
  });
  assert.deepEqual(staleBuilds(project({ ...built, 'web/dist/assets/app.js': 300 })), {
    server: false,
    web: false,
  });
});
