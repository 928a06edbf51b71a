import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { tempDir } from './helpers/server.js';

test('flags override env vars, which override the config file, which overrides defaults', () => {
  const dir = tempDir();
  const file = join(dir, 'tailor.json');
  writeFileSync(
    file,
    JSON.stringify({ port: 1111, sdWebuiUrl: 'http://gpu:7860/', graceMs: 3000 }),
  );
  const config = loadConfig(
    { port: 3333 },
    { TAILOR_PORT: '2222', SD_WEBUI_URL: 'http://env:7860', TAILOR_CONFIG: file },
    undefined,
    { sdWebuiUrl: { env: 'SD_WEBUI_URL', description: 'a module setting' } },
  );
  assert.equal(config.port, 3333);
  assert.equal(config.settings.sdWebuiUrl, 'http://env:7860');
  assert.equal(config.graceMs, 3000);
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.db, join(config.dataDir, 'tailor.db'));
});

test('a postgres:// URL selects PostgreSQL; bad values are refused with the variable named', () => {
  assert.equal(loadConfig({}, { TAILOR_DB: 'postgres://u@h/db' }).db, 'postgres://u@h/db');
  assert.throws(
    () => loadConfig({}, { TAILOR_PORT: 'eighty' }),
    (e: Error) => e instanceof ConfigError && e.message.includes('TAILOR_PORT'),
  );
  assert.throws(() => loadConfig({}, { TAILOR_TOKEN: 'short' }), /at least 16/);
});

test('binding beyond loopback without a token is refused; with a token it is allowed', () => {
  assert.throws(
    () => loadConfig({ host: '0.0.0.0' }, {}),
    /refusing to listen on 0\.0\.0\.0 without TAILOR_TOKEN/,
  );
  assert.equal(loadConfig({ host: '0.0.0.0' }, { TAILOR_TOKEN: 'x'.repeat(20) }).host, '0.0.0.0');
  assert.equal(loadConfig({ host: '::1' }, {}).host, '::1');
});

test('`tailor serve --host 0.0.0.0` without a token exits non-zero with a clear message', async () => {
  const cli = new URL('../src/cli/main.ts', import.meta.url).pathname;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', cli, 'serve', '--host', '0.0.0.0', '--data-dir', tempDir()],
    {
      env: { ...process.env, TAILOR_TOKEN: '' },
    },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 2);
  assert.match(stderr, /refusing to listen/);
});

test('a start that fails half-way (port taken) rejects, leaves no timers or handles behind, and its data directory usable', async () => {
  const { startTestServer } = await import('./helpers/server.js');
  const first = await startTestServer();
  try {
    const port = Number(new URL(first.url).port);
    const dir = tempDir();
    await assert.rejects(startTestServer({ dataDir: dir, config: { port } }), /EADDRINUSE/);
    // The database of the failed start was closed: another server can open and use it at once.
    const again = await startTestServer({ dataDir: dir });
    const task = await again.client.createTask('alpha', {});
    assert.equal(task.status === 'pending' || task.status === 'running', true);
    await again.dispose();
  } finally {
    await first.dispose();
  }
});
