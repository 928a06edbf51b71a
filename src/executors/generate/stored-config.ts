import { ErrorCode, TailorError } from '../../domain/errors.js';
import type { JsonObject } from '../../domain/task.js';
import { configNotFound } from './routes/configs.js';
import { generateTaskConfigFrom } from './override.js';
import type { ConfigStore } from './storage/configs.js';

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A generate config that names a stored one (`config_id`) becomes the stored fields with the
 * given ones over them: `override`, and any generation field given beside `config_id`. This is
 * the one path for `/api/generate-with-config`, `/api/task/create` and the CLI, so a stored
 * config is never silently ignored. Without `config_id` the input is used as it is.
 */
export async function resolveStoredConfig(store: ConfigStore, input: unknown): Promise<unknown> {
  if (!isObject(input) || input.config_id === undefined) return input;
  const { config_id: id, config_name: _name, override, ...fields } = input;
  if (typeof id !== 'string') {
    throw new TailorError(ErrorCode.VALIDATION, '/config/config_id must be a string', {
      fields: [{ path: '/config/config_id', message: 'must be a string' }],
    });
  }
  if (override !== undefined && !isObject(override)) {
    throw new TailorError(ErrorCode.VALIDATION, '/override must be an object', {
      fields: [{ path: '/override', message: 'must be an object' }],
    });
  }
  const stored = await store.get(id);
  if (!stored) throw configNotFound(id);
  return generateTaskConfigFrom(stored, { ...fields, ...override });
}
