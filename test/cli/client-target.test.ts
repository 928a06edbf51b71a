import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startTestServer, tempDir } from '../helpers/server.js';
import { freePort, runCli } from './run-cli.js';

const TOKEN = 'client-target-token-0123456789';

test('client commands find a server on a non-default port through TAILOR_PORT, TAILOR_URL or the config file, with the token from each source', async () => {
  const s = await startTestServer({ config: { token: TOKEN } });
  try {
    const port = new URL(s.url).port;
    assert.notEqual(port, '50052');

    const byPort = await runCli(['types'], { TAILOR_PORT: port, TAILOR_TOKEN: TOKEN });
    assert.equal(byPort.code, 0, byPort.stderr);
    assert.match(byPort.stdout, /alpha/);

    const byHostAndPort = await runCli(['--token', TOKEN, 'list'], {
      TAILOR_HOST: '127.0.0.1',
      TAILOR_PORT: port,
    });
    assert.equal(byHostAndPort.code, 0, byHostAndPort.stderr);

    const byUrl = await runCli(['list'], { TAILOR_URL: s.url, TAILOR_TOKEN: TOKEN });
    assert.equal(byUrl.code, 0, byUrl.stderr);

    const file = join(tempDir(), 'tailor.json');
    writeFileSync(file, JSON.stringify({ host: '0.0.0.0', port: Number(port), token: TOKEN }));
    const byFile = await runCli(['--config', file, 'list']);
    assert.equal(byFile.code, 0, byFile.stderr);
    const byFileEnv = await runCli(['list'], { TAILOR_CONFIG: file });
    assert.equal(byFileEnv.code, 0, byFileEnv.stderr);

    // --url beats TAILOR_PORT: the port given here is wrong, the URL right.
    const flagWins = await runCli(['--url', s.url, '--token', TOKEN, 'list'], {
      TAILOR_PORT: '1',
    });
    assert.equal(flagWins.code, 0, flagWins.stderr);

    // Client options may also follow the command.
    const after = await runCli(['list', '--json', '--url', s.url, '--token', TOKEN]);
    assert.equal(after.code, 0, after.stderr);
    assert.equal((JSON.parse(after.stdout) as { tasks: unknown[] }).tasks.length, 0);

    const noToken = await runCli(['list'], { TAILOR_PORT: port });
    assert.equal(noToken.code, 1);
    assert.match(noToken.stderr, /code 40100/);
  } finally {
    await s.dispose();
  }
});

test('a server that cannot be reached is reported with the URL tried and why, exit code 4', async () => {
  const port = await freePort();
  const list = await runCli(['list'], { TAILOR_PORT: String(port) });
  assert.equal(list.code, 4);
  assert.equal(
    list.stderr.trim(),
    `tailor: cannot reach http://127.0.0.1:${port} (ECONNREFUSED) — is the server running? set TAILOR_URL or --url`,
  );
  // The WebSocket path (watch) says the same.
  const watch = await runCli(['--url', `http://127.0.0.1:${port}`, 'watch']);
  assert.equal(watch.code, 4);
  assert.match(
    watch.stderr,
    new RegExp(`cannot reach http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`),
  );
});
