import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { overrideOf, draftOf } from '../../src/executors/generate/console/api.js';
import { describeSidecar } from '../../web/src/gallery/sidecar.js';
import { columnsFor, visibleRows } from '../../web/src/gallery/windowing.js';
import { parseHash } from '../../web/src/routePath.js';
import { visibleMessage } from '../../web/src/tasks/taskMessage.js';

describe('task rows', () => {
  test('a running task shows its progress line', () => {
    assert.deepEqual(
      visibleMessage({ status: 'running', message: 'sampling 3/20', error_message: null }),
      { kind: 'progress', text: 'sampling 3/20' },
    );
  });

  test("a finished task shows its error, else the server's final message, else its status", () => {
    assert.deepEqual(
      visibleMessage({
        status: 'cancelled',
        message: 'stopped by user at sampling 3/20',
        error_message: null,
      }),
      { kind: 'progress', text: 'stopped by user at sampling 3/20' },
    );
    assert.deepEqual(visibleMessage({ status: 'cancelled', message: '', error_message: null }), {
      kind: 'status',
    });
    assert.deepEqual(
      visibleMessage({ status: 'failed', message: 'sampling 3/20', error_message: 'WebUI down' }),
      { kind: 'error', text: 'WebUI down' },
    );
    assert.deepEqual(
      visibleMessage({
        status: 'completed',
        message: '4 image(s) from 1 loop(s)',
        error_message: null,
      }),
      { kind: 'progress', text: '4 image(s) from 1 loop(s)' },
    );
  });
});

describe('gallery', () => {
  test("a generation's sidecar shows its prompt, the seed actually used and the sampler", () => {
    const details = describeSidecar({
      seed: 1234,
      model: 'anything-v5',
      parameters: {
        prompt: 'a cat',
        negative_prompt: 'blurry',
        seed: -1,
        sampler_name: 'Euler a',
        steps: 20,
      },
    });
    assert.deepEqual(details, [
      { key: 'gallery.prompt', value: 'a cat' },
      { key: 'gallery.negativePrompt', value: 'blurry' },
      { key: 'gallery.seed', value: '1234' },
      { key: 'gallery.sampler', value: 'Euler a' },
      { key: 'gallery.steps', value: '20' },
      { key: 'gallery.model', value: 'anything-v5' },
    ]);
  });

  test("a crawled work's sidecar shows its Pixiv title, author and tags, in any of Pixiv's tag shapes", () => {
    assert.deepEqual(
      describeSidecar({
        title: 'Sunset',
        userName: 'someone',
        tags: { tags: [{ tag: 'sky' }, { tag: '夕焼け' }] },
      }),
      [
        { key: 'gallery.pixivTitle', value: 'Sunset' },
        { key: 'gallery.author', value: 'someone' },
        { key: 'gallery.tags', value: 'sky, 夕焼け' },
      ],
    );
    assert.deepEqual(describeSidecar({ tags: ['a', 'b'] }), [
      { key: 'gallery.tags', value: 'a, b' },
    ]);
    assert.deepEqual(describeSidecar(null), []);
  });

  test('only the rows near the viewport are rendered', () => {
    assert.deepEqual(
      visibleRows({ offset: 0, viewportHeight: 800, rowHeight: 200, rowCount: 1000 }),
      { start: 0, end: 6 },
    );
    assert.deepEqual(
      visibleRows({ offset: 10_000, viewportHeight: 800, rowHeight: 200, rowCount: 1000 }),
      { start: 48, end: 56 },
    );
    // The grid starts below the fold: the first rows are the ones to show.
    assert.deepEqual(
      visibleRows({ offset: -300, viewportHeight: 800, rowHeight: 200, rowCount: 3 }),
      { start: 0, end: 3 },
    );
    assert.deepEqual(visibleRows({ offset: 0, viewportHeight: 800, rowHeight: 200, rowCount: 0 }), {
      start: 0,
      end: 0,
    });
  });

  test('as many columns as cells of the minimum size fit, at least one', () => {
    assert.equal(columnsFor(1000, 160, 8), 6);
    assert.equal(columnsFor(100, 160, 8), 1);
  });
});

describe('routes', () => {
  test('the hash names the page and its parameters; no hash is the Tasks page', () => {
    const route = parseHash('#/gallery?task=abc&type=generate');
    assert.equal(route.path, '/gallery');
    assert.equal(route.params.get('task'), 'abc');
    assert.equal(parseHash('').path, '/tasks');
  });
});

describe('generate page', () => {
  test('the override holds only the fields that differ from the stored config, LoRAs as a whole', () => {
    const stored = draftOf({
      id: 'x',
      name: 'n',
      prompt: 'a cat',
      steps: 20,
      loras: [{ name: 'style', weight: 1, trigger_words: [] }],
    });
    assert.deepEqual(overrideOf(stored, stored), {});
    const draft = {
      ...stored,
      prompt: 'a dog',
      loras: [
        { name: 'style', weight: 1, trigger_words: [] },
        { name: 'detail', weight: 0.5, trigger_words: ['sharp'] },
      ],
    };
    assert.deepEqual(overrideOf(stored, draft), {
      prompt: 'a dog',
      loras: draft.loras,
    });
    assert.equal('name' in stored, false, 'name and id are not generation fields');
  });
});
