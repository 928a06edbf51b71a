import type { FastifyInstance } from 'fastify';
import { ErrorCode, TailorError } from '../domain/errors.js';

/**
 * How deep a JSON body may nest. No route needs more than a handful of levels; without a bound a
 * body of a few kilobytes (`{"a":{"a":…}}` thousands deep) overflows the stack of whatever walks it
 * next (the config copy before validation, redaction, serialisation) and comes back as a 500.
 */
export const MAX_BODY_DEPTH = 32;

/** Depth of a parsed JSON value (a scalar is 0), walked iteratively so it cannot overflow itself. */
export function jsonDepthExceeds(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth + 1 > limit) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}

/** Refuse over-deep bodies with a 400 before schema validation or any handler sees them. */
export function installBodyDepthLimit(app: FastifyInstance, limit = MAX_BODY_DEPTH): void {
  app.addHook('preValidation', async (request) => {
    if (request.body !== undefined && jsonDepthExceeds(request.body, limit)) {
      throw new TailorError(
        ErrorCode.VALIDATION,
        `request body nests deeper than ${limit} levels`,
        {
          max_depth: limit,
        },
      );
    }
  });
}
