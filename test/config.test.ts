import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CORE_SETTINGS, ConfigError, flagOf, loadConfig } from '../src/config/config.js';
import { builtInModules } from '../src/executors/index.js';
import { moduleSettings } from '../src/server.js';
import { freePort, runCli } from './cli/run-cli.js';
import { tempDir } from './helpers/server.js';

const CLI = new URL('../src/cli/main.ts', import.meta.url).pathname;

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
    moduleSettings(builtInModules),
  );
  assert.equal(config.port, 3333);
  assert.equal(config.extra.sdWebuiUrl, 'http://env:7860');
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

/** A raw value for every core setting and what it must parse to, whichever source gives it. */
const SAMPLES: Record<string, { raw: string; parsed: unknown }> = {
  host: { raw: '127.0.0.2', parsed: '127.0.0.2' },
  port: { raw: '4321', parsed: 4321 },
  dataDir: { raw: '/srv/tailor-data', parsed: '/srv/tailor-data' },
  db: { raw: '/srv/tailor.db', parsed: '/srv/tailor.db' },
  token: { raw: 'a-token-of-20-chars!', parsed: 'a-token-of-20-chars!' },
  modelsDir: { raw: '/srv/models', parsed: '/srv/models' },
  imageRoots: { raw: '/srv/pictures:/mnt/nas', parsed: ['/srv/pictures', '/mnt/nas'] },
  proxy: { raw: 'http://proxy:3128', parsed: 'http://proxy:3128' },
  nodeId: { raw: 'gpu-1', parsed: 'gpu-1' },
  executors: { raw: 'generate, crawl', parsed: ['generate', 'crawl'] },
  leaseMs: { raw: '2000', parsed: 2000 },
  graceMs: { raw: '5', parsed: 5 },
  pollMs: { raw: '250', parsed: 250 },
  bodyLimit: { raw: '2048', parsed: 2048 },
  allowedOrigins: {
    raw: 'http://a.test,http://b.test',
    parsed: ['http://a.test', 'http://b.test'],
  },
  logLevel: { raw: 'debug', parsed: 'debug' },
  logFormat: { raw: 'pretty', parsed: 'pretty' },
};

test('every setting of the table is read from its flag, its env var and the config file', () => {
  assert.deepEqual(
    CORE_SETTINGS.map((spec) => spec.key).sort(),
    Object.keys(SAMPLES).sort(),
    'each setting needs a sample here',
  );
  const dir = tempDir();
  for (const spec of CORE_SETTINGS) {
    const { raw, parsed } = SAMPLES[spec.key]!;
    const file = join(dir, `${spec.key}.json`);
    writeFileSync(file, JSON.stringify({ [spec.key]: raw }));
    const fromFlag = loadConfig({ [spec.key]: raw }, {});
    const fromEnv = loadConfig({}, { [spec.env]: raw });
    const fromFile = loadConfig({}, {}, file);
    const fromFileEnv = loadConfig({}, { TAILOR_CONFIG: file });
    for (const [source, config] of Object.entries({ fromFlag, fromEnv, fromFile, fromFileEnv })) {
      assert.deepEqual(
        new Map(Object.entries(config)).get(spec.key),
        parsed,
        `${spec.key} ${source}`,
      );
    }
  }
});

test('every setting of every built-in module is read from its flag, its env var and the config file', () => {
  const specs = moduleSettings(builtInModules);
  assert.ok(specs.length > 0);
  const dir = tempDir();
  for (const spec of specs) {
    const raw = `value-of-${spec.key}`;
    const file = join(dir, `${spec.key}.json`);
    writeFileSync(file, JSON.stringify({ [spec.key]: raw }));
    for (const [source, config] of Object.entries({
      flag: loadConfig({ [spec.key]: raw }, {}, undefined, specs),
      env: loadConfig({}, { [spec.env]: raw }, undefined, specs),
      file: loadConfig({}, {}, file, specs),
    }))
      assert.equal(config.extra[spec.key], raw, `${spec.key} from its ${source}`);
  }
});

test('settings a module appends to the table come from the same three sources into config.extra', () => {
  const modelsDir = {
    key: 'upscalerDir',
    env: 'TAILOR_UPSCALER_DIR',
    arg: '<dir>',
    description: 'upscaler models',
    defaultText: '<dataDir>/upscalers',
    parse: (raw: unknown, earlier: Readonly<Record<string, unknown>>) =>
      typeof raw === 'string' ? raw : join(String(earlier.dataDir), 'upscalers'),
  };
  const file = join(tempDir(), 'tailor.json');
  writeFileSync(file, JSON.stringify({ upscalerDir: '/from/file' }));
  assert.equal(
    loadConfig({ upscalerDir: '/flag' }, {}, undefined, [modelsDir]).extra.upscalerDir,
    '/flag',
  );
  assert.equal(
    loadConfig({}, { TAILOR_UPSCALER_DIR: '/env' }, file, [modelsDir]).extra.upscalerDir,
    '/env',
  );
  assert.equal(loadConfig({}, {}, file, [modelsDir]).extra.upscalerDir, '/from/file');
  // Without the module's setting, the file's key is unknown: a typo is refused, not ignored.
  assert.throws(() => loadConfig({}, {}, file), /unknown keys upscalerDir/);
  assert.throws(() => loadConfig({}, {}, undefined, [{ ...modelsDir, key: 'port' }]), /twice/);
});

test('serve --help shows every setting with its flag, env var and default', async () => {
  const help = await runCli(['serve', '--help']);
  assert.equal(help.code, 0);
  const text = help.stdout.replace(/\s+/g, ' ');
  for (const spec of CORE_SETTINGS) {
    assert.ok(text.includes(`${flagOf(spec)} ${spec.arg}`), `${spec.key}: flag`);
    assert.ok(text.includes(`env ${spec.env}`), `${spec.key}: env`);
    if (spec.defaultText !== '—')
      assert.ok(text.includes(`default ${spec.defaultText}`), `${spec.key}: default`);
  }
});

/** `tailor serve` as a child process, resolved once it listens; the caller kills it. */
async function serve(
  args: string[],
): Promise<{ url: string; lines: string[]; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CLI, 'serve', '--port', String(port), '--data-dir', tempDir(), ...args],
    { env: cleanEnv() },
  );
  const lines: string[] = [];
  let buffered = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      lines.push(...parts);
      if (lines.some((line) => line.includes('tailor listening'))) resolve();
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    lines,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(TAILOR_|SD_WEBUI_|PIXIV_)/.test(key)),
  );
}

test('a token given only as `serve --token` is enforced: 401 without it, 200 with it; logs are JSON lines when stdout is not a terminal', async () => {
  const token = 'flag-token-0123456789';
  const server = await serve(['--token', token]);
  try {
    const body = JSON.stringify({ pagination: { page: 1, page_size: 1 } });
    const headers = { 'content-type': 'application/json' };
    const without = await fetch(`${server.url}/api/tasks`, { method: 'POST', headers, body });
    assert.equal(without.status, 401);
    const withToken = await fetch(`${server.url}/api/tasks`, {
      method: 'POST',
      headers: { ...headers, authorization: `Bearer ${token}` },
      body,
    });
    assert.equal(withToken.status, 200);
    const listening = server.lines.find((line) => line.includes('tailor listening'))!;
    assert.equal((JSON.parse(listening) as { msg: string }).msg, 'tailor listening');
  } finally {
    await server.stop();
  }
});

test('--log-format pretty prints readable lines instead of JSON', async () => {
  const server = await serve(['--log-format', 'pretty']);
  try {
    const listening = server.lines.find((line) => line.includes('tailor listening'))!;
    assert.match(listening, /INFO.*tailor listening/);
    assert.throws(() => JSON.parse(listening) as unknown);
  } finally {
    await server.stop();
  }
});

test('a start refused for a bad option exits 2 with a clear message and creates no data directory', async () => {
  const dataDir = join(tempDir(), 'never-created');
  const badExecutors = await runCli(['serve', '--executors', 'nope', '--data-dir', dataDir]);
  assert.equal(badExecutors.code, 2);
  assert.match(
    badExecutors.stderr,
    /executors \(--executors, TAILOR_EXECUTORS\): no executor for nope; known task types: generate/,
  );
  assert.equal(existsSync(dataDir), false);

  const badLevel = await runCli(['serve', '--log-level', 'loud', '--data-dir', dataDir]);
  assert.equal(badLevel.code, 2);
  assert.match(badLevel.stderr, /logLevel \(--log-level, TAILOR_LOG_LEVEL\) must be one of/);
  assert.equal(existsSync(dataDir), false);
});
