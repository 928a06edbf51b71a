#!/usr/bin/env node
// Runs every test file under test/ (or the paths given) with node's test runner and tsx.
// Node 20 cannot glob test files itself, so they are collected here.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function collect(path) {
  if (statSync(path).isFile()) return path.endsWith('.test.ts') ? [path] : [];
  return readdirSync(path)
    .sort()
    .flatMap((name) => (name === 'node_modules' ? [] : collect(join(path, name))));
}

const args = process.argv.slice(2);
const flags = args.filter((a) => a.startsWith('--'));
const paths = args.filter((a) => !a.startsWith('--'));
const files = (paths.length ? paths : ['test']).flatMap(collect);
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...flags, ...files],
  { stdio: 'inherit' },
);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
