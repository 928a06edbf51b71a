/**
 * Rules between fields that a JSON Schema states poorly (its `anyOf` errors name no field). They
 * look only at which fields are present, so they run on the raw request on every node, before
 * validation, and a 400 names the field as validation would.
 */
import { ErrorCode, TailorError } from '../../domain/errors.js';

interface FieldError {
  path: string;
  message: string;
}

const has = (object: Record<string, unknown>, key: string): boolean =>
  object[key] !== undefined && object[key] !== null;

export function checkFieldRules(input: unknown): void {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return;
  const config = input as Record<string, unknown>;
  const fields: FieldError[] = [];
  const sources = ['dataset_dir', 'dataset_task_ids', 'datasets'].filter((k) => has(config, k));
  if (sources.length === 0) {
    fields.push({
      path: '/config/dataset_dir',
      message: 'is required (or dataset_task_ids, or datasets)',
    });
  } else if (sources.length > 1) {
    fields.push({
      path: `/config/${sources[1]}`,
      message: `cannot be combined with ${sources[0]}: give one dataset source`,
    });
  }
  if (Array.isArray(config.datasets)) {
    config.datasets.forEach((entry: unknown, i) => {
      if (typeof entry !== 'object' || entry === null) return;
      const given = ['dir', 'task_id'].filter((k) => has(entry as Record<string, unknown>, k));
      if (given.length !== 1) {
        fields.push({
          path: `/config/datasets/${i}/dir`,
          message: 'give exactly one of dir, task_id',
        });
      }
    });
  }
  if (has(config, 'max_train_epochs') && has(config, 'max_train_steps')) {
    fields.push({
      path: '/config/max_train_steps',
      message: 'cannot be combined with max_train_epochs: give one limit',
    });
  }
  if (has(config, 'sample_every_n_epochs') && !has(config, 'sample_prompts')) {
    fields.push({
      path: '/config/sample_prompts',
      message: 'is required with sample_every_n_epochs',
    });
  }
  if (config.model_family === 'flux') {
    for (const key of ['clip_l', 't5xxl', 'ae']) {
      if (!has(config, key)) {
        fields.push({ path: `/config/${key}`, message: 'is required for model_family flux' });
      }
    }
  }
  if (fields.length) {
    throw new TailorError(
      ErrorCode.VALIDATION,
      `invalid config for train: ${fields.map((f) => `${f.path} ${f.message}`).join('; ')}`,
      { fields },
    );
  }
}
