import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { ErrorCode, TailorError } from '../domain/errors.js';
import { TASK_TYPE_PATTERN, type JsonObject } from '../domain/task.js';
import type { ExecutorDefinition } from './executor.js';

// ajv-formats ships CommonJS with a default export; under NodeNext it arrives wrapped.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

interface Registered {
  definition: ExecutorDefinition;
  validate: ValidateFunction;
}

export interface FieldError {
  path: string;
  message: string;
}

/**
 * Executors by task type. `enabled` lets a node run only some types (a GPU box runs generate
 * while another crawls); every registered type can still be validated and queued anywhere.
 */
export class ExecutorRegistry {
  private readonly executors = new Map<string, Registered>();
  private readonly ajv: Ajv;
  private enabled: Set<string> | null = null;

  constructor() {
    // No coercion: `{"steps": "20"}` is a 400, not a number. Defaults from the schema are applied.
    this.ajv = new Ajv({ allErrors: true, coerceTypes: false, useDefaults: true, strict: false });
    addFormats(this.ajv);
  }

  register<C extends JsonObject>(definition: ExecutorDefinition<C>): void {
    if (!new RegExp(TASK_TYPE_PATTERN).test(definition.type)) {
      throw new Error(`invalid executor type name ${JSON.stringify(definition.type)}`);
    }
    if (this.executors.has(definition.type)) {
      throw new Error(`an executor for ${definition.type} is already registered`);
    }
    this.executors.set(definition.type, {
      definition: definition as unknown as ExecutorDefinition,
      validate: this.ajv.compile(definition.schema),
    });
  }

  /** Restrict which registered types this process claims; null means all of them. */
  enableOnly(types: readonly string[] | null): void {
    if (types) {
      const unknown = types.filter((type) => !this.executors.has(type));
      if (unknown.length) throw new Error(`no executor registered for: ${unknown.join(', ')}`);
    }
    this.enabled = types ? new Set(types) : null;
  }

  get(type: string): ExecutorDefinition | undefined {
    return this.executors.get(type)?.definition;
  }

  types(): string[] {
    return [...this.executors.keys()];
  }

  /** Types this process runs. */
  runnableTypes(): string[] {
    return this.types().filter((type) => !this.enabled || this.enabled.has(type));
  }

  /**
   * The config after validation and defaults, or a 400 listing each bad field; an unknown type
   * is a 501 (the type may exist in a later version or on a node with more executors).
   */
  validate(type: string, config: unknown): JsonObject {
    const entry = this.executors.get(type);
    if (!entry) {
      throw new TailorError(
        ErrorCode.NO_EXECUTOR,
        `no executor is registered for task type "${type}"`,
        {
          type,
          registered: this.types(),
        },
      );
    }
    const copy = structuredClone(config) as JsonObject;
    if (!entry.validate(copy)) {
      const fields = describeErrors(entry.validate.errors ?? [], '/config');
      throw new TailorError(
        ErrorCode.VALIDATION,
        `invalid config for ${type}: ${fields.map((f) => `${f.path} ${f.message}`).join('; ')}`,
        { fields },
      );
    }
    return copy;
  }
}

/**
 * One message per field, saying what would be accepted. Ajv reports an `anyOf` (a TypeBox union)
 * as every failed branch plus "must match a schema in anyOf"; a union of literals or of types is
 * collapsed into one line (`must be one of pending, running`, `must be string or null`), and the
 * anyOf line itself is dropped whenever its branches already say what is wrong.
 */
export function describeErrors(errors: readonly ErrorObject[], prefix: string): FieldError[] {
  const consumed = new Set<ErrorObject>();
  const out: FieldError[] = [];
  const push = (error: ErrorObject, message: string): void => {
    let path = prefix + error.instancePath;
    if (error.keyword === 'required') path += `/${String(error.params.missingProperty)}`;
    if (error.keyword === 'additionalProperties')
      path += `/${String(error.params.additionalProperty)}`;
    if (!out.some((f) => f.path === path && f.message === message)) out.push({ path, message });
  };
  for (const error of errors) {
    if (error.keyword !== 'anyOf') continue;
    const branches = errors.filter(
      (e) =>
        e !== error &&
        e.schemaPath.startsWith(`${error.schemaPath}/`) &&
        e.instancePath === error.instancePath,
    );
    if (branches.length === 0) continue;
    consumed.add(error);
    const literals = branches.flatMap((e) => allowedValues(e) ?? []);
    if (branches.every((e) => allowedValues(e) !== null)) {
      branches.forEach((e) => consumed.add(e));
      push(error, oneOf(literals));
    } else if (branches.every((e) => e.keyword === 'type')) {
      branches.forEach((e) => consumed.add(e));
      push(
        error,
        `must be ${[...new Set(branches.map((e) => String(e.params.type)))].join(' or ')}`,
      );
    }
  }
  for (const error of errors) {
    if (consumed.has(error)) continue;
    const literals = allowedValues(error);
    push(error, literals ? oneOf(literals) : (error.message ?? 'is invalid'));
  }
  return out;
}

/** The values an `enum` or `const` error allows, else null. */
function allowedValues(error: ErrorObject): unknown[] | null {
  if (error.keyword === 'enum' && Array.isArray(error.params.allowedValues))
    return error.params.allowedValues as unknown[];
  if (error.keyword === 'const') return [error.params.allowedValue];
  return null;
}

function oneOf(values: readonly unknown[]): string {
  const shown = [...new Set(values)].map((v) =>
    typeof v === 'string' && v ? v : JSON.stringify(v),
  );
  return shown.length === 1 ? `must be ${shown[0]!}` : `must be one of ${shown.join(', ')}`;
}
