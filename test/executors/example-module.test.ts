import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildProgram } from '../../src/cli/program.js';
import { builtInModules } from '../../src/executors/index.js';
import { runModuleStorageConformance } from '../store/module-conformance.js';
import { startTestServer, waitForStatus, type TestServer } from '../helpers/server.js';
import { checksumModule, checksumStorage } from './example-module.js';

describe('a module brings its route, setting, table, form and CLI command without edits elsewhere', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({
      config: { checksumAlgorithm: 'md5' },
      server: { modules: [...builtInModules, checksumModule] },
    });
  });
  after(() => s.dispose());

  test('its routes are served and documented in /openapi.json', async () => {
    const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    assert.ok(doc.paths['/api/checksum/history'], 'GET /api/checksum/history');
    assert.ok(doc.paths['/api/checksum/create'], 'POST /api/checksum/create');
  });

  test('/api/task-types gives its config schema (the form) and its setting with the configured value', async () => {
    const { types } = await s.client.getTaskTypes();
    const checksum = types.find((t) => t.type === 'checksum');
    assert.ok(checksum);
    assert.equal(checksum.runnable, true);
    const properties = checksum.schema.properties as Record<string, { description?: string }>;
    assert.deepEqual(Object.keys(properties).sort(), ['algorithm', 'dir']);
    assert.deepEqual(checksum.settings, [
      {
        key: 'checksumAlgorithm',
        env: 'CHECKSUM_ALGORITHM',
        description: 'Hash used when a task names none',
        secret: false,
        set: true,
        value: 'md5',
      },
    ]);
  });

  test('a task created through its route runs, uses the setting, and lands in its own table', async () => {
    const dir = join(s.dataDir, 'to-digest');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.txt'), 'alpha');
    writeFileSync(join(dir, 'b.txt'), 'beta');
    const response = await fetch(`${s.url}/api/checksum/create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dir: 'to-digest' }),
    });
    const created = ((await response.json()) as { data: { id: string } }).data;
    const done = await waitForStatus(s.client, created.id, ['completed']);
    const expected = createHash('md5')
      .update('a.txt')
      .update('alpha')
      .update('b.txt')
      .update('beta');
    assert.deepEqual(done.result, { files: 2, algorithm: 'md5', digest: expected.digest('hex') });
    const history = (await (await fetch(`${s.url}/api/checksum/history`)).json()) as {
      data: { runs: unknown[] };
    };
    assert.deepEqual(history.data.runs, [
      { task_id: created.id, files: 2, digest: (done.result as { digest: string }).digest },
    ]);
  });
});

runModuleStorageConformance('checksum', checksumStorage, (it) => {
  it('a recorded run is listed, on a second start too', async ({ storage, reopen }) => {
    await storage.record('t1', 3, 'abc');
    const again = await reopen();
    assert.deepEqual(await again.list(), [{ task_id: 't1', files: 3, digest: 'abc' }]);
  });
});

test('its CLI command and its setting appear in `tailor --help` and `tailor serve --help`', () => {
  const program = buildProgram([...builtInModules, checksumModule]);
  const checksum = program.commands.find((command) => command.name() === 'checksum');
  assert.ok(checksum, 'tailor checksum');
  assert.match(checksum.helpInformation(), /--watch/);
  const serve = program.commands.find((command) => command.name() === 'serve');
  assert.ok(serve);
  const help = serve.helpInformation();
  assert.match(help, /--checksum-algorithm <value>/);
  assert.match(help, /CHECKSUM_ALGORITHM/);
  assert.match(help, /default sha256/);
  // Without the module, neither exists: nothing else names them.
  const bare = buildProgram(builtInModules);
  assert.equal(
    bare.commands.find((command) => command.name() === 'checksum'),
    undefined,
  );
  assert.doesNotMatch(
    bare.commands.find((command) => command.name() === 'serve')!.helpInformation(),
    /CHECKSUM_ALGORITHM/,
  );
});
