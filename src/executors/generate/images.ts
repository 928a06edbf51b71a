import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type ImageFormat = 'png' | 'jpeg' | 'webp';

/** The WebUI encodes in its configured `samples_format`; trust the bytes, not an assumption. */
export function detectImageFormat(bytes: Uint8Array): ImageFormat | null {
  const starts = (signature: readonly number[], offset = 0): boolean =>
    bytes.length >= offset + signature.length && signature.every((b, i) => bytes[offset + i] === b);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (starts([0xff, 0xd8, 0xff])) return 'jpeg';
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'webp';
  return null;
}

export const EXTENSION: Record<ImageFormat, string> = { png: 'png', jpeg: 'jpg', webp: 'webp' };

/** Some WebUI forks and proxies answer with data URLs instead of bare base64. */
export function decodeBase64Image(encoded: string): Buffer {
  const comma = encoded.startsWith('data:') ? encoded.indexOf(',') : -1;
  return Buffer.from(comma >= 0 ? encoded.slice(comma + 1) : encoded, 'base64');
}

/**
 * Write through a temporary name and rename, so a crash or a full disk never leaves a truncated
 * image that looks complete to whoever lists the folder.
 */
export async function writeFileAtomically(
  dir: string,
  name: string,
  data: string | Uint8Array,
): Promise<void> {
  const target = join(dir, name);
  const partial = `${target}.part`;
  await writeFile(partial, data);
  await rename(partial, target);
}
