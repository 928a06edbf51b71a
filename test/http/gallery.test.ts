import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestServer, tempDir, waitForStatus, type TestServer } from '../helpers/server.js';

interface GalleryImage {
  task_id: string;
  task_type: string;
  file: string;
  url: string;
  size: number;
  modified_at: string;
  sidecar: Record<string, unknown> | null;
}
interface GalleryPage {
  images: GalleryImage[];
  pagination: { page: number; page_size: number; total: number };
}

async function gallery(s: TestServer, query = ''): Promise<{ http: number; data: GalleryPage }> {
  const response = await fetch(`${s.url}/api/gallery${query}`);
  const body = (await response.json()) as { data: GalleryPage };
  return { http: response.status, data: body.data };
}

/** A finished task of `type` whose output folder holds `files` (name → content), aged in order. */
async function taskWithFiles(
  s: TestServer,
  type: string,
  files: [string, string][],
  baseTime: number,
): Promise<string> {
  const task = await s.client.createTask(type, { label: 'gallery' });
  await waitForStatus(s.client, task.id, ['completed']);
  const dir = s.tasks.outputDirOf(task.id);
  files.forEach(([name, content], index) => {
    const path = join(dir, name);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, content);
    const time = new Date(baseTime + index * 1000);
    utimesSync(path, time, time);
  });
  return task.id;
}

describe('GET /api/gallery', () => {
  let s: TestServer;
  let older: string;
  let newer: string;

  before(async () => {
    s = await startTestServer();
    older = await taskWithFiles(
      s,
      'alpha',
      [
        ['a.png', 'png'],
        ['a.json', JSON.stringify({ prompt: 'a cat', seed: 7 })],
        ['notes.txt', 'not an image'],
      ],
      Date.UTC(2025, 0, 1),
    );
    newer = await taskWithFiles(
      s,
      'beta',
      [
        ['works/123_p0.jpg', 'jpg'],
        ['works/123_p1.webp', 'webp'],
        ['works/123.json', JSON.stringify({ title: 'A work', author: 'someone' })],
        ['broken.gif', 'gif'],
        ['broken.json', '{not json'],
      ],
      Date.UTC(2025, 0, 2),
    );
  });

  after(async () => {
    await s.dispose();
  });

  test('lists every image of existing tasks newest first, with its sidecar and task type', async () => {
    const { http, data } = await gallery(s);
    assert.equal(http, 200);
    assert.deepEqual(
      data.images.map((image) => [image.task_id, image.file]),
      [
        [newer, 'broken.gif'],
        [newer, 'works/123_p1.webp'],
        [newer, 'works/123_p0.jpg'],
        [older, 'a.png'],
      ],
    );
    assert.equal(data.pagination.total, 4);
    const [broken, page1, , first] = data.images;
    assert.equal(broken!.sidecar, null, 'a sidecar that is not JSON is no metadata');
    assert.deepEqual(page1!.sidecar, { title: 'A work', author: 'someone' });
    assert.equal(page1!.task_type, 'beta');
    assert.deepEqual(first!.sidecar, { prompt: 'a cat', seed: 7 });
    assert.equal(first!.url, `/api/files/${older}/a.png`);
    assert.equal(first!.size, 3);
    const served = await fetch(s.url + page1!.url);
    assert.equal(served.status, 200);
    assert.equal(await served.text(), 'webp');
  });

  test('filters by type and by task, and pages', async () => {
    const byType = await gallery(s, '?type=alpha');
    assert.deepEqual(
      byType.data.images.map((image) => image.task_id),
      [older],
    );
    const byTask = await gallery(s, `?task_id=${newer}`);
    assert.equal(byTask.data.images.length, 3);
    assert.ok(byTask.data.images.every((image) => image.task_id === newer));
    const none = await gallery(s, `?task_id=${newer}&type=alpha`);
    assert.equal(none.data.images.length, 0);

    const second = await gallery(s, '?page=2&page_size=3');
    assert.deepEqual(second.data.pagination, { page: 2, page_size: 3, total: 4 });
    assert.deepEqual(
      second.data.images.map((image) => image.file),
      ['a.png'],
    );
  });

  test('a malformed or unknown query parameter is a 400', async () => {
    for (const query of ['?page=0', '?page_size=abc', '?task_id=../x', '?colour=red']) {
      const { http } = await gallery(s, query);
      assert.equal(http, 400, query);
    }
  });

  test('files of deleted tasks are not listed, and a task folder linking outside is skipped', async () => {
    const outside = tempDir('tailor-outside-');
    writeFileSync(join(outside, 'secret.png'), 'secret');
    const task = await s.client.createTask('gamma', { label: 'linked' });
    await waitForStatus(s.client, task.id, ['completed']);
    const folder = s.tasks.outputDirOf(task.id);
    mkdirSync(join(folder, '..'), { recursive: true });
    symlinkSync(outside, folder);
    const { data } = await gallery(s);
    assert.ok(!data.images.some((image) => image.task_id === task.id));

    await s.client.deleteTask(older);
    const after = await gallery(s);
    assert.ok(!after.data.images.some((image) => image.task_id === older));
  });

  test('the endpoint is in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    assert.ok(doc.paths['/api/gallery']);
  });
});
