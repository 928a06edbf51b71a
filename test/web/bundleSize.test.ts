import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const MANIFEST = 'web/dist/.vite/manifest.json';

test(
  'the first load of the Tasks page stays within 300 kB gzip (scripts/bundle-size.mjs)',
  { skip: existsSync(MANIFEST) ? false : `needs a built console (${MANIFEST})` },
  () => {
    const run = spawnSync(process.execPath, ['scripts/bundle-size.mjs', '--json'], {
      encoding: 'utf8',
    });
    const report = JSON.parse(run.stdout) as {
      budget: number;
      total: number;
      files: { file: string; gzip: number }[];
    };
    assert.ok(
      report.total <= report.budget,
      `first load is ${(report.total / 1024).toFixed(1)} kB gzip`,
    );
    assert.equal(run.status, 0, run.stderr);
    // The other pages are not in it.
    assert.ok(!report.files.some((f) => /GalleryPage|GeneratePage/.test(f.file)));
  },
);
