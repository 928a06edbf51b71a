import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { builtInModules } from '../src/executors/index.js';

/** The core: everything below the executor modules. */
const CORE = ['domain', 'store', 'scheduler', 'http', 'ws', 'cluster', 'config'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

test('no core source names a task type or imports an executor module', () => {
  const types = builtInModules.map((module) => module.type);
  assert.ok(types.length > 0);
  const named = new RegExp(`['"\`](${types.join('|')})['"\`]`);
  const offenders: string[] = [];
  for (const folder of CORE) {
    for (const file of sources(join('src', folder))) {
      const text = readFileSync(file, 'utf8');
      text.split('\n').forEach((line, i) => {
        if (named.test(line) || /from '(\.\.\/)+executors\//.test(line))
          offenders.push(`${file}:${i + 1}: ${line.trim()}`);
      });
    }
  }
  assert.deepEqual(offenders, []);
});

test('each built-in module is one folder under src/executors, registered once', () => {
  const types = builtInModules.map((module) => module.type);
  assert.equal(new Set(types).size, types.length);
  for (const type of types) {
    assert.ok(statSync(join('src', 'executors', type)).isDirectory(), `src/executors/${type}/`);
  }
});
