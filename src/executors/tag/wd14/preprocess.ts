/**
 * Images into a WD14 model's input, as SmilingWolf's reference tagger and kohya's script prepare
 * them: alpha composited onto white, padded to a centred square with white, resized to the size
 * the model declares, then float32 0–255 in **BGR** order, NHWC.
 *
 * Decoding and resizing run in sharp (libvips on the libuv thread pool), so the event loop only
 * copies the small resized pixels into the batch tensor. BMP, which libvips does not read, is
 * parsed here into raw pixels and handed to sharp the same way.
 */
import { readFile } from 'node:fs/promises';
import sharp, { type Sharp } from 'sharp';

const WHITE = { r: 255, g: 255, b: 255, alpha: 1 };

/** Pixel count above which an image is refused (a decompression bomb, not an illustration). */
const MAX_INPUT_PIXELS = 20_000 * 20_000;

export class UnreadableImage extends Error {
  override name = 'UnreadableImage';
}

/** An image file or its bytes as sharp's input, BMP converted to raw pixels. */
async function sharpInput(source: string | Buffer): Promise<Sharp> {
  const options = { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' } as const;
  const bytes =
    typeof source === 'string' && source.toLowerCase().endsWith('.bmp')
      ? await readFile(source)
      : source;
  if (typeof bytes !== 'string' && isBmp(bytes)) {
    const raw = decodeBmp(bytes);
    return sharp(raw.data, {
      ...options,
      raw: { width: raw.width, height: raw.height, channels: 4 },
    });
  }
  return sharp(bytes, options);
}

/**
 * RGB bytes of the image fitted into `size`×`size`: flattened onto white, scaled to fit and
 * padded with white around the centre (the same as padding to a square first, then resizing).
 */
export async function decodeSquare(source: string | Buffer, size: number): Promise<Buffer> {
  try {
    const image = await sharpInput(source);
    const { data, info } = await image
      .flatten({ background: WHITE })
      .resize(size, size, { fit: 'contain', position: 'centre', background: WHITE })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.width !== size || info.height !== size || info.channels !== 3) {
      throw new UnreadableImage(`decoded to ${info.width}×${info.height}×${info.channels}`);
    }
    return data;
  } catch (error) {
    if (error instanceof UnreadableImage) throw error;
    throw new UnreadableImage(error instanceof Error ? error.message : String(error), {
      cause: error,
    });
  }
}

/** RGB bytes → the model's BGR float32 0–255 layout, written at `offset` of a batch tensor. */
export function writeBgr(rgb: Uint8Array, target: Float32Array, offset: number): void {
  for (let i = 0, o = offset; i < rgb.length; i += 3, o += 3) {
    target[o] = rgb[i + 2]!;
    target[o + 1] = rgb[i + 1]!;
    target[o + 2] = rgb[i]!;
  }
}

function isBmp(bytes: Buffer): boolean {
  return bytes.length > 54 && bytes[0] === 0x42 && bytes[1] === 0x4d;
}

/**
 * Uncompressed BMP (8-bit palette, 24-bit, 32-bit BI_RGB or BI_BITFIELDS with the usual masks)
 * into RGBA. Other variants are reported as unreadable rather than guessed at.
 */
export function decodeBmp(bytes: Buffer): { data: Buffer; width: number; height: number } {
  if (!isBmp(bytes)) throw new UnreadableImage('not a BMP file');
  const dataOffset = bytes.readUInt32LE(10);
  const headerSize = bytes.readUInt32LE(14);
  if (headerSize < 40) throw new UnreadableImage('BMP core headers are not supported');
  const width = bytes.readInt32LE(18);
  const rawHeight = bytes.readInt32LE(22);
  const bpp = bytes.readUInt16LE(28);
  const compression = bytes.readUInt32LE(30);
  const height = Math.abs(rawHeight);
  const topDown = rawHeight < 0;
  if (width <= 0 || height === 0 || width * height > MAX_INPUT_PIXELS) {
    throw new UnreadableImage(`BMP of ${width}×${height} pixels`);
  }
  if (!(compression === 0 || (compression === 3 && bpp === 32)) || ![8, 24, 32].includes(bpp)) {
    throw new UnreadableImage(`BMP with ${bpp} bits per pixel, compression ${compression}`);
  }
  const stride = Math.ceil((width * bpp) / 32) * 4;
  if (dataOffset + stride * height > bytes.length) throw new UnreadableImage('truncated BMP');
  const paletteAt = 14 + headerSize;
  // BI_RGB leaves the fourth byte unused (often 0); alpha counts only when a mask declares it.
  const hasAlpha = compression === 3 && headerSize >= 56 && bytes.readUInt32LE(66) === 0xff000000;
  const out = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      let at: number;
      if (bpp === 8) at = paletteAt + bytes[row + x]! * 4;
      else at = row + x * (bpp / 8);
      out[o] = bytes[at + 2]!;
      out[o + 1] = bytes[at + 1]!;
      out[o + 2] = bytes[at]!;
      out[o + 3] = hasAlpha ? bytes[at + 3]! : 255;
    }
  }
  return { data: out, width, height };
}
