import assert from 'node:assert/strict';
import type { JsonObject } from '../../src/domain/task.js';
import { ConfigStore } from '../../src/executors/generate/storage/configs.js';
import {
  POSTGRES_MIGRATIONS,
  SQLITE_MIGRATIONS,
} from '../../src/executors/generate/storage/migrations.js';
import { runModuleStorageConformance } from '../store/module-conformance.js';

const spec = {
  migrations: { sqlite: SQLITE_MIGRATIONS, postgres: POSTGRES_MIGRATIONS },
  open: (sql: ConstructorParameters<typeof ConfigStore>[0]) => new ConfigStore(sql),
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function assertIso(value: string | null | undefined): void {
  assert.ok(value, 'timestamp present');
  assert.match(value, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
}

runModuleStorageConformance('generate', spec, (it) => {
  it('a config round-trips with its body and timestamps', async ({ storage: store }) => {
    const body: JsonObject = {
      prompt: '1girl, 水彩, masterpiece',
      steps: 28,
      cfg_scale: 6.5,
      loras: [{ name: 'style', weight: 0.8, trigger: ['ink'] }],
    };
    const created = await store.create({ name: 'Portrait', category: 'sdxl', body });
    assert.ok(created.id.length > 0);
    assert.equal(created.name, 'Portrait');
    assert.equal(created.category, 'sdxl');
    assert.deepEqual(created.body, body);
    assertIso(created.created_at);
    assertIso(created.updated_at);
    assert.deepEqual(await store.get(created.id), created);
  });

  it('update replaces name, category and body and keeps created_at', async ({ storage: store }) => {
    const created = await store.create({
      name: 'a',
      category: 'x',
      body: { steps: 20, old: true },
    });
    await sleep(5);
    const updated = await store.update(created.id, {
      name: 'b',
      category: 'y',
      body: { steps: 30 },
    });
    assert.equal(updated?.id, created.id);
    assert.equal(updated?.name, 'b');
    assert.equal(updated?.category, 'y');
    assert.deepEqual(updated?.body, { steps: 30 });
    assert.equal(updated?.created_at, created.created_at);
    assert.ok(Date.parse(updated!.updated_at) >= Date.parse(created.updated_at));
    assert.deepEqual(await store.get(created.id), updated);
  });

  it('get, update and delete of a missing id report it', async ({ storage: store }) => {
    assert.equal(await store.get('missing'), null);
    assert.equal(await store.update('missing', { name: 'a', category: '', body: {} }), null);
    assert.equal(await store.delete('missing'), false);
    const created = await store.create({ name: 'a', category: '', body: {} });
    assert.equal(await store.delete(created.id), true);
    assert.equal(await store.delete(created.id), false);
    assert.equal(await store.get(created.id), null);
  });

  it('the list is sorted by name ignoring case and filters by name substring and category', async ({
    storage: store,
  }) => {
    for (const [name, category] of [
      ['gamma landscape', 'sd15'],
      ['Beta Portrait', 'sdxl'],
      ['alpha portrait', 'sd15'],
      ['Delta', 'sdxl'],
    ] as const) {
      await store.create({ name, category, body: {} });
    }
    const names = async (query: { name?: string; category?: string }) =>
      (await store.list({ page: 1, pageSize: 10, ...query })).configs.map((c) => c.name);
    assert.deepEqual(await names({}), [
      'alpha portrait',
      'Beta Portrait',
      'Delta',
      'gamma landscape',
    ]);
    assert.deepEqual(await names({ name: 'PORTRAIT' }), ['alpha portrait', 'Beta Portrait']);
    assert.deepEqual(await names({ name: 'ta' }), ['Beta Portrait', 'Delta']);
    assert.deepEqual(await names({ category: 'sd15' }), ['alpha portrait', 'gamma landscape']);
    assert.deepEqual(await names({ name: 'portrait', category: 'sdxl' }), ['Beta Portrait']);
    assert.deepEqual(await names({ category: 'sd' }), [], 'category matches exactly');
    assert.deepEqual(await names({ name: 'nothing' }), []);
    assert.equal((await store.list({ page: 1, pageSize: 10, name: '' })).total, 4);
  });

  it('the name filter is a literal substring, not a pattern', async ({ storage: store }) => {
    for (const name of ['50% off', '500 offers', 'a_b', 'axb']) {
      await store.create({ name, category: '', body: {} });
    }
    const names = async (name: string) =>
      (await store.list({ page: 1, pageSize: 10, name })).configs.map((c) => c.name);
    assert.deepEqual(await names('0%'), ['50% off']);
    assert.deepEqual(await names('a_b'), ['a_b']);
  });

  it('the list pages with a total', async ({ storage: store }) => {
    for (const name of ['e', 'd', 'c', 'b', 'a'])
      await store.create({ name, category: '', body: {} });
    const page = async (n: number) => store.list({ page: n, pageSize: 2 });
    const pages = [await page(1), await page(2), await page(3), await page(4)];
    assert.deepEqual(
      pages.map((p) => p.configs.map((c) => c.name)),
      [['a', 'b'], ['c', 'd'], ['e'], []],
    );
    assert.ok(pages.every((p) => p.total === 5));
  });

  it('a config body round-trips exactly: unicode, NUL, lone surrogates, deep nesting', async ({
    storage,
  }) => {
    const tricky: JsonObject = {
      unicode: 'héllo 世界 мир',
      emoji: '🎨🖌️👩‍🎨',
      nul: 'before\u0000after',
      loneSurrogate: 'x\ud800y\udc00z',
      controls: '\t\n\r\b\f\u0001\u001f',
      quotes: 'say "hi" \\ back\\slash /slash',
      lineSeparators: '\u2028\u2029',
      '键 🔑': { 'nested key': true },
      nested: [[1, [2, [3, [4, []]]]], { a: null, b: [{}] }],
      numbers: [0, -1, 0.1, 0.1 + 0.2, 1e21, -0.000001, Number.MAX_SAFE_INTEGER],
    };
    const created = await storage.create({ name: '🎨 水彩', category: 'ünï', body: tricky });
    const read = await storage.get(created.id);
    assert.deepEqual(read?.body, tricky);
    assert.equal(read?.name, '🎨 水彩');
    assert.equal(read?.category, 'ünï');
  });

  it('a second start applies no migration twice and keeps the rows', async ({
    storage,
    reopen,
  }) => {
    const created = await storage.create({ name: 'kept', category: '', body: { steps: 1 } });
    const again = await reopen();
    assert.deepEqual(await again.get(created.id), created);
  });
});
