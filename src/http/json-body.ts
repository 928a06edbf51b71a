import type { FastifyInstance } from 'fastify';
import { ErrorCode, TailorError } from '../domain/errors.js';

/**
 * Fastify's JSON parser, with one difference: a body refused for prototype pollution (a
 * `__proto__` key, or `constructor.prototype`) is reported as that, not as "not valid JSON" — the
 * sender's JSON is valid, and they need to know which key to rename.
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, raw, done) => {
    const body = typeof raw === 'string' ? raw : raw.toString('utf8');
    parse(request, body, (error, value) => {
      if (error && (error as { code?: string }).code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
        const key = pollutingKey(body);
        if (key) {
          done(
            new TailorError(
              ErrorCode.INVALID_JSON,
              `request body has a "${key}" key, which is refused (prototype pollution)`,
            ),
            undefined,
          );
          return;
        }
      }
      done(error, value);
    });
  });
}

/** `__proto__` or `constructor.prototype` when the text is valid JSON holding one, else null. */
export function pollutingKey(text: string): string | null {
  let value: unknown;
  try {
    // Plain JSON.parse keeps a `__proto__` key as an own data property: safe to inspect.
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const stack: unknown[] = [value];
  while (stack.length) {
    const item = stack.pop();
    if (item === null || typeof item !== 'object') continue;
    if (Object.prototype.hasOwnProperty.call(item, '__proto__')) return '__proto__';
    const record = item as Record<string, unknown>;
    const ctor = Object.prototype.hasOwnProperty.call(item, 'constructor')
      ? record.constructor
      : undefined;
    if (ctor !== null && typeof ctor === 'object' && Object.hasOwn(ctor, 'prototype'))
      return 'constructor.prototype';
    stack.push(...Object.values(record));
  }
  return null;
}
