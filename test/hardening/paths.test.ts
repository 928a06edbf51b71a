import assert from 'node:assert/strict';
import { createConnection } from 'node:net';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestServer, tempDir, waitForStatus, type TestServer } from '../helpers/server.js';
import { assertEnvelope, request } from './harness.js';

/** Files are served read-only from the task's own folder and deleted only there. */
describe('user paths are confined to the task output folder', () => {
  let s: TestServer;
  let id = '';
  const outside = tempDir('tailor-outside-');
  const secretFile = join(outside, 'secret.txt');

  before(async () => {
    writeFileSync(secretFile, 'TOP-SECRET');
    s = await startTestServer();
    const task = await s.client.createTask('alpha', { writeFile: 'out.txt' });
    await waitForStatus(s.client, task.id, ['completed']);
    id = task.id;
    const dir = s.tasks.outputDirOf(id);
    symlinkSync(secretFile, join(dir, 'link.txt'));
    symlinkSync(outside, join(dir, 'linkdir'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'inner.txt'), 'inner');
  });
  after(async () => {
    await s.dispose();
  });

  test('the task’s own files are served', async () => {
    const ok = await request(`${s.url}/api/files/${id}/out.txt`);
    assert.equal(ok.status, 200);
    assert.equal(ok.text, 'output');
    assert.equal((await request(`${s.url}/api/files/${id}/sub/inner.txt`)).text, 'inner');
  });

  const escapes = [
    '../../../../etc/passwd',
    '..%2f..%2f..%2f..%2fetc%2fpasswd',
    '%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    '%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '..%5c..%5c..%5cetc%5cpasswd',
    '..\\..\\..\\etc\\passwd',
    '%2fetc%2fpasswd',
    '/etc/passwd',
    '//etc/passwd',
    'sub/../../' + 'x',
    'link.txt',
    'linkdir/secret.txt',
    'linkdir',
    'sub',
    '%00',
    'out.txt%00.png',
  ];
  for (const path of escapes) {
    test(`GET /api/files/:id/${path} is refused and never leaks`, async () => {
      const response = await request(`${s.url}/api/files/${id}/${path}`);
      assert.ok([400, 403, 404].includes(response.status), `${path}: HTTP ${response.status}`);
      assertEnvelope(response, path);
      assert.ok(!response.text.includes('TOP-SECRET') && !response.text.includes('root:'), path);
    });
  }

  // fetch (like every WHATWG URL user) resolves `..` and `%2e%2e` before sending; an attacker's
  // raw client does not. These requests go over a plain socket exactly as written.
  const rawTraversals = [
    '../../../../etc/passwd',
    '%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    'sub/../../../secret.txt',
  ];
  for (const path of rawTraversals) {
    test(`a raw, unresolved GET /api/files/:id/${path} is refused and never leaks`, async () => {
      const { status, body } = await rawGet(s.url, `/api/files/${id}/${path}`);
      assert.ok([400, 403, 404].includes(status), `${path}: HTTP ${status}`);
      assert.ok(!body.includes('TOP-SECRET') && !body.includes('root:'), path);
      assert.match(body, /"status":\{"code":4\d{4}/, 'an enveloped error');
    });
  }

  test('a symlink to a file outside gives 403, not 404 or the file', async () => {
    const response = await request(`${s.url}/api/files/${id}/link.txt`);
    assert.equal(response.status, 403);
    assert.equal((response.json as { status: { code: number } }).status.code, 40300);
  });

  test('a task folder that is itself a symlink out of the data directory is not served', async () => {
    const task = await s.client.createTask('beta', { writeFile: 'mine.txt' });
    await waitForStatus(s.client, task.id, ['completed']);
    const dir = s.tasks.outputDirOf(task.id);
    renameSync(dir, `${dir}.moved`);
    symlinkSync(outside, dir);
    const response = await request(`${s.url}/api/files/${task.id}/secret.txt`);
    assert.ok([403, 404].includes(response.status), `HTTP ${response.status}`);
    assert.ok(!response.text.includes('TOP-SECRET'));
  });

  test('delete_files removes only the task folder, never what a symlink in it points to', async () => {
    const task = await s.client.createTask('gamma', { writeFile: 'x.txt' });
    await waitForStatus(s.client, task.id, ['completed']);
    const dir = s.tasks.outputDirOf(task.id);
    symlinkSync(outside, join(dir, 'escape'));
    symlinkSync(secretFile, join(dir, 'escape-file'));
    await s.client.deleteTask(task.id, { deleteFiles: true });
    assert.equal(existsSync(dir), false);
    assert.equal(readFileSync(secretFile, 'utf8'), 'TOP-SECRET');
  });

  test('delete_files with a task id shaped like a path is a 400, nothing deleted', async () => {
    for (const bad of ['..', '../outside', '/tmp', 'a/b', '..\\..', '%2e%2e']) {
      const response = await request(`${s.url}/api/delete`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ task_id: bad, delete_files: true }),
      });
      assert.equal(response.status, 400, bad);
      assertEnvelope(response, bad);
    }
    assert.ok(existsSync(secretFile));
    assert.ok(existsSync(s.tasks.outputDirOf(id)));
  });
});

/** One HTTP/1.1 GET over a plain socket, the path sent byte for byte as given. */
function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: hostname, port: Number(port) }, () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n\r\n`,
      );
    });
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      resolve({ status, body: data.slice(data.indexOf('\r\n\r\n') + 4) });
    });
  });
}
