/** The success half of the envelope; errors are built in `errors.ts`. */
export function ok<T>(data: T): { status: { code: 0; message: 'success' }; data: T } {
  return { status: { code: 0, message: 'success' }, data };
}
