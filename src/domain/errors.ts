/**
 * Error codes of the API envelope. The first three digits are the HTTP status, so a client can
 * branch on either; the table is part of the public contract (README "Error codes").
 */
export const ErrorCode = {
  VALIDATION: 40000,
  INVALID_JSON: 40001,
  UNAUTHORIZED: 40100,
  FORBIDDEN_PATH: 40300,
  TASK_NOT_FOUND: 40400,
  NOT_FOUND: 40401,
  /** A named resource of an executor module (a stored generation config, a model) is missing. */
  RESOURCE_NOT_FOUND: 40402,
  ILLEGAL_TRANSITION: 40900,
  BODY_TOO_LARGE: 41300,
  UNSUPPORTED_MEDIA_TYPE: 41500,
  RATE_LIMITED: 42900,
  INTERNAL: 50000,
  NO_EXECUTOR: 50100,
  DEPENDENCY_UNAVAILABLE: 50300,
} as const;
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

export function httpStatusOf(code: ErrorCodeValue): number {
  return Math.floor(code / 100);
}

/** A failure the caller can act on; anything else is reported as INTERNAL without its text. */
export class TailorError extends Error {
  readonly code: ErrorCodeValue;
  readonly details: unknown;

  constructor(code: ErrorCodeValue, message: string, details?: unknown) {
    super(message);
    this.name = 'TailorError';
    this.code = code;
    this.details = details;
  }

  get httpStatus(): number {
    return httpStatusOf(this.code);
  }
}

export const taskNotFound = (taskId: string): TailorError =>
  new TailorError(ErrorCode.TASK_NOT_FOUND, `task ${taskId} not found`, { task_id: taskId });

export const illegalTransition = (
  action: string,
  taskId: string,
  status: string,
  allowed: readonly string[],
): TailorError =>
  new TailorError(
    ErrorCode.ILLEGAL_TRANSITION,
    `cannot ${action} task ${taskId}: it is ${status} (allowed from ${allowed.join(', ')})`,
    { task_id: taskId, status, allowed_from: allowed },
  );
