import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Type } from 'typebox';
import {
  defaultsOf,
  fieldsOf,
  literalOptions,
  toConfig,
  toFormValues,
  type JsonSchema,
} from '../../web/src/forms/schema.js';
import { GenerationConfigSchema } from '../../src/executors/generate/config-schema.js';

const schema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 50, pattern: '^[a-z]+$', description: 'A name' }),
  notes: Type.Optional(Type.String()),
  mode: Type.Union([Type.Literal('fast'), Type.Literal('slow')], { default: 'fast' }),
  order: Type.Optional(Type.Enum(['date', 'popular'])),
  count: Type.Integer({ minimum: 1, maximum: 10, default: 3 }),
  ratio: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  enabled: Type.Optional(Type.Boolean({ default: true })),
  tags: Type.Optional(Type.Array(Type.String(), { maxItems: 5 })),
  nested: Type.Object({
    depth: Type.Integer({ default: 2 }),
    label: Type.Optional(Type.String({ maxLength: 20 })),
  }),
  items: Type.Optional(Type.Array(Type.Object({ key: Type.String({ maxLength: 10 }) }))),
  anything: Type.Optional(Type.Unknown()),
  maybe: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
}) as JsonSchema;

describe('JSON Schema → form fields', () => {
  const fields = fieldsOf(schema);
  const byName = new Map(fields.map((field) => [field.name, field]));

  test('every property becomes a field, in declaration order, required as the schema says', () => {
    assert.deepEqual(
      fields.map((field) => [field.name, field.kind, field.required]),
      [
        ['name', 'text', true],
        ['notes', 'text', false],
        ['mode', 'select', true],
        ['order', 'select', false],
        ['count', 'number', true],
        ['ratio', 'number', false],
        ['enabled', 'boolean', false],
        ['tags', 'tags', false],
        ['nested', 'object', true],
        ['items', 'list', false],
        ['anything', 'json', false],
        ['maybe', 'number', false],
      ],
    );
  });

  test('strings keep their pattern and lengths; short ones are single-line, unbounded ones multi-line', () => {
    assert.deepEqual(byName.get('name'), {
      name: 'name',
      label: 'Name',
      description: 'A name',
      required: true,
      kind: 'text',
      multiline: false,
      minLength: 1,
      maxLength: 50,
      pattern: '^[a-z]+$',
    });
    const notes = byName.get('notes');
    assert.ok(notes?.kind === 'text' && notes.multiline);
  });

  test('unions of literals and enums become selects with their values', () => {
    const mode = byName.get('mode');
    assert.ok(mode?.kind === 'select');
    assert.deepEqual(mode.options, ['fast', 'slow']);
    assert.equal(mode.default, 'fast');
    const order = byName.get('order');
    assert.ok(order?.kind === 'select');
    assert.deepEqual(order.options, ['date', 'popular']);
    assert.equal(literalOptions({ anyOf: [{ const: 'a' }, { type: 'string' }] }), null);
  });

  test('numbers carry bounds and integer-ness; an [X, null] union is X', () => {
    const count = byName.get('count');
    assert.ok(count?.kind === 'number');
    assert.deepEqual([count.integer, count.min, count.max], [true, 1, 10]);
    const ratio = byName.get('ratio');
    assert.ok(ratio?.kind === 'number' && !ratio.integer && ratio.max === 1);
    const maybe = byName.get('maybe');
    assert.ok(maybe?.kind === 'number' && maybe.integer);
  });

  test('arrays of strings are tags, arrays of objects are lists of fieldsets, objects nest', () => {
    const tags = byName.get('tags');
    assert.ok(tags?.kind === 'tags' && tags.options === null && tags.maxItems === 5);
    const nested = byName.get('nested');
    assert.ok(nested?.kind === 'object');
    assert.deepEqual(
      nested.fields.map((field) => field.name),
      ['depth', 'label'],
    );
    const items = byName.get('items');
    assert.ok(items?.kind === 'list');
    assert.equal(items.fields[0]?.kind, 'text');
  });

  test('defaults prefill the form, including those of a required nested object', () => {
    assert.deepEqual(defaultsOf(fields), {
      mode: 'fast',
      count: 3,
      enabled: true,
      nested: { depth: 2 },
    });
  });

  test('empty optional values are left out of the config; JSON fields are parsed', () => {
    const config = toConfig(fields, {
      name: 'abc',
      notes: '',
      mode: 'slow',
      count: 4,
      ratio: null,
      tags: ['a', 'b'],
      nested: { depth: 1, label: '' },
      items: [{ key: 'k' }],
      anything: '{"x": [1, 2]}',
    });
    assert.deepEqual(config, {
      name: 'abc',
      mode: 'slow',
      count: 4,
      tags: ['a', 'b'],
      nested: { depth: 1 },
      items: [{ key: 'k' }],
      anything: { x: [1, 2] },
    });
  });

  test('a config survives the trip to form values and back', () => {
    const config = {
      name: 'abc',
      mode: 'fast',
      count: 2,
      enabled: false,
      nested: { depth: 5, label: 'x' },
      items: [{ key: 'a' }, { key: 'b' }],
      anything: { deep: { value: true } },
    };
    const values = toFormValues(fields, config);
    assert.equal(typeof values.anything, 'string');
    assert.deepEqual(toConfig(fields, values), config);
  });

  test('the generate config schema maps onto the form: prompt multi-line, LoRAs a list, width stepped by 8', () => {
    const generate = new Map(
      fieldsOf(GenerationConfigSchema as JsonSchema).map((field) => [field.name, field]),
    );
    const prompt = generate.get('prompt');
    assert.ok(prompt?.kind === 'text' && prompt.multiline && prompt.required);
    const width = generate.get('width');
    assert.ok(width?.kind === 'number' && width.step === 8 && width.min === 64);
    const loras = generate.get('loras');
    assert.ok(loras?.kind === 'list');
    assert.deepEqual(
      loras.fields.map((field) => [field.name, field.kind]),
      [
        ['name', 'text'],
        ['weight', 'number'],
        ['trigger_words', 'tags'],
      ],
    );
    assert.equal(generate.get('enable_hr')?.kind, 'boolean');
  });
});
