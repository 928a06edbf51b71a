import { TailorApiError } from '../../../src/client/index.js';

/** The API's own message (it names the field); a 401 is answered by the login modal instead. */
export function describeError(error: unknown): string | null {
  if (error instanceof TailorApiError) return error.httpStatus === 401 ? null : error.message;
  return error instanceof Error ? error.message : String(error);
}
