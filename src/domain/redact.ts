import type { JsonObject, JsonValue } from './task.js';

/**
 * Secrets (Pixiv cookies, tokens, proxy passwords) are kept in the stored config because an
 * executor needs them, and are replaced by this marker everywhere a task leaves the process:
 * API responses, WebSocket events, logs. Redaction is by key name so that a new executor's
 * secret is covered without anyone remembering to list it.
 */
export const REDACTED = '[redacted]';

const SECRET_KEY =
  /(cookie|token|password|passwd|secret|authorization|api[_-]?key|credential|session)/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

export function redactConfig(config: JsonObject): JsonObject {
  return redactValue(config) as JsonObject;
}

function redactValue(value: JsonValue, key?: string): JsonValue {
  if (key !== undefined && isSecretKey(key) && value !== null && value !== '') return REDACTED;
  if (typeof value === 'string') return redactUrlCredentials(value);
  if (Array.isArray(value)) return value.map((item) => redactValue(item));
  if (value !== null && typeof value === 'object') {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactValue(v, k);
    return out;
  }
  return value;
}

// The scheme is bounded and must start a word: an unbounded `[a-z][a-z0-9+.-]*` backtracks
// quadratically over a long run of letters (a single 8 KB log line took ~100 ms).
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]{0,15}:\/\/[^/\s:@]{1,256}:)([^@\s/]{1,256})@/gi;

/** `http://user:pass@proxy:8080` → `http://user:[redacted]@proxy:8080`. */
export function redactUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, `$1${REDACTED}@`);
}

/** Every secret string inside a config, so free text (log lines, errors) can be scrubbed of them. */
export function secretValues(config: JsonObject): string[] {
  const found: string[] = [];
  const walk = (value: JsonValue, key?: string): void => {
    if (typeof value === 'string') {
      if (key !== undefined && isSecretKey(key) && value.length >= 4) found.push(value);
      for (const match of value.matchAll(URL_CREDENTIALS)) {
        if (match[2] && match[2].length >= 4) found.push(match[2]);
      }
    } else if (Array.isArray(value)) {
      value.forEach((item) => walk(item, key));
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, k);
    }
  };
  walk(config);
  return found;
}

export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join(REDACTED);
  return redactUrlCredentials(out);
}

/** The task as it may leave the process: config secrets replaced. */
export function redactTask<T extends { config: JsonObject }>(task: T): T {
  return { ...task, config: redactConfig(task.config) };
}
