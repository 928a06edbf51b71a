/**
 * Reading Pixiv's JSON answers without trusting their shape: Pixiv adds, drops and retypes fields,
 * so every read is checked and a missing field is `undefined`, never a crash.
 */

export function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

export function idOf(value: unknown): string | null {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return String(value);
  if (typeof value === 'string' && /^[1-9][0-9]*$/.test(value)) return value;
  return null;
}
