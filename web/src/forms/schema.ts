/**
 * JSON Schema → form fields: the pure half of SchemaForm, tested without a browser
 * (test/web/schemaForm.test.ts). Handles what the task types' TypeBox schemas produce: strings
 * (enum, pattern, length), integers and numbers (bounds), booleans, arrays of strings, arrays of
 * objects, nested objects, unions of literals, and `[X, null]` unions. Anything else becomes a JSON
 * field, so no schema is ever unrepresentable.
 */

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: readonly unknown[];
  const?: unknown;
  anyOf?: readonly JsonSchema[];
  oneOf?: readonly JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
}

export type Literal = string | number | boolean;

interface Base {
  /** Property name. */
  name: string;
  label: string;
  description?: string;
  required: boolean;
  default?: unknown;
}

export type Field =
  | (Base & {
      kind: 'text';
      multiline: boolean;
      minLength?: number;
      maxLength?: number;
      pattern?: string;
    })
  | (Base & { kind: 'number'; integer: boolean; min?: number; max?: number; step?: number })
  | (Base & { kind: 'boolean' })
  | (Base & { kind: 'select'; options: Literal[] })
  | (Base & { kind: 'tags'; options: Literal[] | null; maxItems?: number })
  | (Base & { kind: 'object'; fields: Field[] })
  | (Base & { kind: 'list'; fields: Field[]; maxItems?: number })
  | (Base & { kind: 'json' });

/** Longer limits than this (or none) get a text area: prompts, not names. */
const SINGLE_LINE_MAX = 300;

const isLiteral = (value: unknown): value is Literal =>
  typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

/** The literal values a schema allows, or null when it allows more than a fixed set. */
export function literalOptions(schema: JsonSchema): Literal[] | null {
  if (schema.const !== undefined) return isLiteral(schema.const) ? [schema.const] : null;
  if (schema.enum) return schema.enum.every(isLiteral) ? [...schema.enum] : null;
  const branches = schema.anyOf ?? schema.oneOf;
  if (!branches) return null;
  const options: Literal[] = [];
  for (const branch of branches) {
    const values = literalOptions(branch);
    if (!values) return null;
    for (const value of values) if (!options.includes(value)) options.push(value);
  }
  return options;
}

const typeOf = (schema: JsonSchema): string | undefined =>
  Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;

/** `anyOf: [X, {type: 'null'}]` is X, optional. */
function withoutNull(schema: JsonSchema): JsonSchema {
  const branches = schema.anyOf ?? schema.oneOf;
  if (!branches) return schema;
  const rest = branches.filter((branch) => branch.type !== 'null');
  if (rest.length === 1 && rest.length < branches.length) {
    const { anyOf: _a, oneOf: _o, ...outer } = schema;
    return { ...outer, ...rest[0] };
  }
  return schema;
}

/** "cfg_scale" → "Cfg scale": a readable label when the schema has no title. */
export function labelOf(name: string): string {
  const words = name
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function fieldOf(name: string, raw: JsonSchema, required: boolean): Field {
  const schema = withoutNull(raw);
  const base: Base = {
    name,
    label: schema.title ?? labelOf(name),
    required,
    ...(schema.description ? { description: schema.description } : {}),
    ...(schema.default !== undefined ? { default: schema.default } : {}),
  };
  const options = literalOptions(schema);
  if (options && options.length > 0) return { ...base, kind: 'select', options };
  switch (typeOf(schema)) {
    case 'string':
      return {
        ...base,
        kind: 'text',
        multiline: schema.maxLength === undefined || schema.maxLength > SINGLE_LINE_MAX,
        ...(schema.minLength !== undefined ? { minLength: schema.minLength } : {}),
        ...(schema.maxLength !== undefined ? { maxLength: schema.maxLength } : {}),
        ...(schema.pattern !== undefined ? { pattern: schema.pattern } : {}),
      };
    case 'integer':
    case 'number': {
      const min = schema.minimum ?? schema.exclusiveMinimum;
      const max = schema.maximum ?? schema.exclusiveMaximum;
      return {
        ...base,
        kind: 'number',
        integer: typeOf(schema) === 'integer',
        ...(min !== undefined ? { min } : {}),
        ...(max !== undefined ? { max } : {}),
        ...(schema.multipleOf !== undefined ? { step: schema.multipleOf } : {}),
      };
    }
    case 'boolean':
      return { ...base, kind: 'boolean' };
    case 'array': {
      const items = schema.items ? withoutNull(schema.items) : undefined;
      const maxItems = schema.maxItems !== undefined ? { maxItems: schema.maxItems } : {};
      if (items && typeOf(items) === 'string')
        return { ...base, kind: 'tags', options: literalOptions(items), ...maxItems };
      if (items && literalOptions(items))
        return { ...base, kind: 'tags', options: literalOptions(items), ...maxItems };
      if (items && typeOf(items) === 'object' && items.properties)
        return { ...base, kind: 'list', fields: fieldsOf(items), ...maxItems };
      return { ...base, kind: 'json' };
    }
    case 'object':
      if (schema.properties) return { ...base, kind: 'object', fields: fieldsOf(schema) };
      return { ...base, kind: 'json' };
    default:
      return { ...base, kind: 'json' };
  }
}

/** The fields of an object schema, in declaration order. */
export function fieldsOf(schema: JsonSchema, omit: readonly string[] = []): Field[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {})
    .filter(([name]) => !omit.includes(name))
    .map(([name, property]) => fieldOf(name, property, required.has(name)));
}

/** The schema's defaults as a value: what a new form starts with. */
export function defaultsOf(fields: readonly Field[]): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const field of fields) {
    if (field.default !== undefined) values[field.name] = structuredClone(field.default);
    else if (field.kind === 'object' && field.required) {
      const nested = defaultsOf(field.fields);
      if (Object.keys(nested).length > 0) values[field.name] = nested;
    }
  }
  return values;
}

/**
 * Form values → the config to send: empty optional values are left out (the server then applies
 * its default, or leaves the setting alone), so clearing a field never sends `""` to a
 * `minLength: 1` string. JSON fields hold their text and are parsed here.
 */
export function toConfig(
  fields: readonly Field[],
  values: Record<string, unknown>,
): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const field of fields) {
    const value = clean(field, values[field.name]);
    if (value !== undefined) config[field.name] = value;
  }
  return config;
}

function clean(field: Field, value: unknown): unknown {
  if (value === undefined || value === null) return undefined;
  switch (field.kind) {
    case 'text':
      return value === '' && !field.required ? undefined : value;
    case 'object':
      return typeof value === 'object' && !Array.isArray(value)
        ? toConfig(field.fields, value as Record<string, unknown>)
        : undefined;
    case 'list':
      return Array.isArray(value)
        ? value
            .filter((item): item is Record<string, unknown> => !!item && typeof item === 'object')
            .map((item) => toConfig(field.fields, item))
        : undefined;
    case 'json': {
      if (typeof value !== 'string') return value;
      if (value.trim() === '') return undefined;
      try {
        return JSON.parse(value) as unknown;
      } catch {
        // Left as text: the server's validation names the field.
        return value;
      }
    }
    default:
      return value;
  }
}

/** A config → form values (the inverse of toConfig): JSON fields become their text. */
export function toFormValues(
  fields: readonly Field[],
  config: Record<string, unknown>,
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const field of fields) {
    const value = config[field.name];
    if (value === undefined) continue;
    if (field.kind === 'json') values[field.name] = JSON.stringify(value, null, 2);
    else if (field.kind === 'object' && value && typeof value === 'object' && !Array.isArray(value))
      values[field.name] = toFormValues(field.fields, value as Record<string, unknown>);
    else if (field.kind === 'list' && Array.isArray(value))
      values[field.name] = value.map((item: unknown) =>
        item && typeof item === 'object' && !Array.isArray(item)
          ? toFormValues(field.fields, item as Record<string, unknown>)
          : item,
      );
    else values[field.name] = value;
  }
  return values;
}
