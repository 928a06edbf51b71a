import type { FastifyError, FastifyInstance } from 'fastify';
import { ErrorCode, TailorError, httpStatusOf, type ErrorCodeValue } from '../domain/errors.js';
import { describeErrors } from '../scheduler/registry.js';

export interface ErrorBody {
  status: { code: number; message: string; details?: unknown };
}

export function errorBody(code: ErrorCodeValue, message: string, details?: unknown): ErrorBody {
  return { status: { code, message, ...(details === undefined ? {} : { details }) } };
}

/**
 * Every failure leaves in the envelope with a fitting HTTP status. Unexpected errors are logged
 * with their stack and reported without their text, which may hold paths or secrets.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | TailorError | Error, request, reply) => {
    const { code, message, details } = classify(error);
    if (code === ErrorCode.INTERNAL) request.log.error({ err: error }, 'unhandled error');
    void reply.status(httpStatusOf(code)).send(errorBody(code, message, details));
  });
  app.setNotFoundHandler((request, reply) => {
    void reply
      .status(404)
      .send(
        errorBody(ErrorCode.NOT_FOUND, `no route ${request.method} ${request.url.split('?')[0]}`),
      );
  });
}

function classify(error: FastifyError | TailorError | Error): {
  code: ErrorCodeValue;
  message: string;
  details?: unknown;
} {
  if (error instanceof TailorError)
    return { code: error.code, message: error.message, details: error.details };
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const where = fastifyError.validationContext ?? 'body';
    const fields = describeErrors(fastifyError.validation as never, '');
    const text = fields.map((f) => `${f.path || '/'} ${f.message}`).join('; ');
    return {
      code: ErrorCode.VALIDATION,
      message: `invalid ${where}: ${text}`,
      details: { fields },
    };
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: ErrorCode.BODY_TOO_LARGE, message: 'request body is too large' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        code: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        message: 'request body must be application/json',
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return {
        code: ErrorCode.INVALID_JSON,
        message: 'request body is empty; a JSON object is required',
      };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return {
        code: ErrorCode.INVALID_JSON,
        message: `request body is not valid JSON: ${error.message}`,
      };
  }
  if (error instanceof SyntaxError || fastifyError.statusCode === 400) {
    return {
      code: ErrorCode.INVALID_JSON,
      message: `request body is not valid JSON: ${error.message}`,
    };
  }
  const unavailable = databaseUnavailable(error);
  if (unavailable) {
    return {
      code: ErrorCode.DEPENDENCY_UNAVAILABLE,
      message: `the database cannot take writes right now (${unavailable}); try again later`,
    };
  }
  if (fastifyError.statusCode === 413)
    return { code: ErrorCode.BODY_TOO_LARGE, message: 'request body is too large' };
  if (fastifyError.statusCode === 415) {
    return {
      code: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
      message: 'request body must be application/json',
    };
  }
  return { code: ErrorCode.INTERNAL, message: 'internal error' };
}

// SQLite result codes (better-sqlite3 `code`) and PostgreSQL SQLSTATEs / socket errors that mean
// the database is there but cannot serve us now: read-only or full disk, locked, restarting,
// unreachable. They are the client's 503, not a bug; anything else stays a 500.
const SQLITE_UNAVAILABLE = /^SQLITE_(READONLY|FULL|BUSY|LOCKED|IOERR|CANTOPEN|PROTOCOL)/;
const PG_UNAVAILABLE = /^(08...|53...|57P0[1-3]|25006)$/;
const SOCKET_UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
]);

/** The database error code when `error` means "database unavailable", else null. */
export function databaseUnavailable(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  if (SQLITE_UNAVAILABLE.test(code) || PG_UNAVAILABLE.test(code) || SOCKET_UNAVAILABLE.has(code))
    return code;
  return null;
}
