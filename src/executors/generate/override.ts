import { Ajv } from 'ajv';
import { ErrorCode, TailorError } from '../../domain/errors.js';
import type { JsonObject } from '../../domain/task.js';
import { describeErrors, type FieldError } from '../../scheduler/registry.js';
import type { StoredConfig } from './storage/configs.js';
import {
  GENERATION_FIELDS,
  GenerationParamsSchema,
  type GenerateTaskConfigInput,
  type GenerationParams,
} from './config-schema.js';

/**
 * Validation of stored generation configs and of `override`s made against them (the configs API
 * and `/api/generate-with-config`). Same rules as the task registry: no type coercion, defaults
 * filled in, every bad field named by its JSON path.
 */
const ajv = new Ajv({ allErrors: true, coerceTypes: false, useDefaults: true, strict: false });
const validateParams = ajv.compile(GenerationParamsSchema);

/**
 * A generation config body after validation and defaults, or a 400 (VALIDATION) whose
 * `details.fields` lists each bad field under `prefix` (e.g. `/body/steps`).
 */
export function validateGenerationParams(body: unknown, prefix = ''): GenerationParams {
  const copy = structuredClone(body);
  if (validateParams(copy)) return copy as GenerationParams;
  throw validationError(describeErrors(validateParams.errors ?? [], prefix));
}

/**
 * `override` replaces whole top-level fields of a stored config body (`loras` included: an
 * override's list is the new list, not an addition). The merged config is validated again, and a
 * bad field is named where it came from: `/override/steps` when the override set it,
 * `/config/steps` when the stored config holds a value the schema no longer accepts.
 */
export function mergeOverride(stored: JsonObject, override: unknown): GenerationParams {
  if (override === undefined || override === null)
    return validateGenerationParams(stored, '/config');
  if (typeof override !== 'object' || Array.isArray(override)) {
    throw validationError([{ path: '/override', message: 'must be an object' }]);
  }
  const overridden = override as JsonObject;
  const merged = structuredClone({ ...stored, ...overridden });
  if (validateParams(merged)) return merged as GenerationParams;
  const fields = describeErrors(validateParams.errors ?? [], '').map(({ path, message }) => {
    const field = path.split('/')[1] ?? '';
    return {
      path: `${Object.hasOwn(overridden, field) ? '/override' : '/config'}${path}`,
      message,
    };
  });
  throw validationError(fields);
}

/** The config of a `generate` task made from a stored config (`/api/generate-with-config`). */
export function generateTaskConfigFrom(
  stored: StoredConfig,
  override?: unknown,
): GenerateTaskConfigInput {
  return {
    ...mergeOverride(stored.body, override),
    config_id: stored.id,
    config_name: stored.name,
  };
}

/** Split a flat configs-API body (`name`, `category` and the generation fields) for the store. */
export function splitGenerationConfig(flat: JsonObject): {
  name: string;
  category: string;
  body: JsonObject;
} {
  const body: JsonObject = {};
  for (const field of GENERATION_FIELDS) {
    const value = flat[field];
    if (value !== undefined) body[field] = value;
  }
  return {
    name: typeof flat.name === 'string' ? flat.name : '',
    category: typeof flat.category === 'string' ? flat.category : '',
    body,
  };
}

function validationError(fields: FieldError[]): TailorError {
  return new TailorError(
    ErrorCode.VALIDATION,
    `invalid generation config: ${fields.map((f) => `${f.path} ${f.message}`).join('; ')}`,
    { fields },
  );
}
