/**
 * Ugoira: Pixiv's animations, served as a zip of frame images plus a list of per-frame delays
 * (`/ajax/illust/{id}/ugoira_meta`). The zip and the delays are always kept; an animated WebP or
 * GIF is built from them when asked, each frame shown for its own delay.
 */
import { rename, rm } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { unzipSync } from 'fflate';
import sharp from 'sharp';
import { field } from './answers.js';

export interface UgoiraFrame {
  file: string;
  /** Milliseconds. */
  delay: number;
}

export interface UgoiraMeta {
  /** The zip of full-size frames. */
  originalSrc: string;
  mimeType: string | null;
  frames: UgoiraFrame[];
}

export function parseUgoiraMeta(body: unknown): UgoiraMeta | null {
  const src = field(body, 'originalSrc') ?? field(body, 'src');
  const frames = field(body, 'frames');
  if (typeof src !== 'string' || !/^https?:\/\//.test(src) || !Array.isArray(frames)) return null;
  const parsed = frames
    .map((frame) => ({ file: field(frame, 'file'), delay: field(frame, 'delay') }))
    .filter(
      (frame): frame is UgoiraFrame =>
        typeof frame.file === 'string' && typeof frame.delay === 'number',
    );
  if (parsed.length === 0) return null;
  const mime = field(body, 'mime_type');
  return { originalSrc: src, mimeType: typeof mime === 'string' ? mime : null, frames: parsed };
}

/** WebP and GIF store a frame's delay in 16 bits of milliseconds (GIF rounds to 10 ms). */
const MAX_DELAY = 65_535;

/**
 * Build `target` (webp or gif by `format`) from the frames in `zipPath`, in the order and with the
 * delays of `frames`. Written through `<target>.part`: no half-built animation is ever left.
 */
export async function buildAnimation(
  zipPath: string,
  frames: readonly UgoiraFrame[],
  format: 'webp' | 'gif',
  target: string,
  signal: AbortSignal,
): Promise<void> {
  const entries = unzipSync(new Uint8Array(await readFile(zipPath)));
  const images = frames.map((frame) => {
    const bytes = entries[frame.file];
    if (!bytes) throw new Error(`frame ${frame.file} is missing from the ugoira zip`);
    return Buffer.from(bytes);
  });
  signal.throwIfAborted();
  const partial = `${target}.part`;
  try {
    await sharp(images, { join: { animated: true } })
      .toFormat(format, {
        delay: frames.map((frame) => Math.min(MAX_DELAY, Math.max(0, Math.round(frame.delay)))),
        loop: 0,
      })
      .toFile(partial);
    signal.throwIfAborted();
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}
