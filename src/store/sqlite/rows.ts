export { toLog, toTask, type LogRow, type TaskRow } from '../rows.js';

export const TASK_COLUMNS = `id, type, status, progress, message, config, result, error_message, priority,
  attempts, max_attempts, owner, claim_token, version, created_at, started_at, completed_at, updated_at`;
