/**
 * Images into a WD14 model's input, as SmilingWolf's reference tagger and kohya's script prepare
 * them: alpha composited onto white, padded to a centred square with white, resized to the size
 * the model declares, then float32 0–255 in **BGR** order, NHWC. The channel swap is a libvips
 * `recomb`, and the conversion to float32 a native typed-array copy.
 *
 * Decoding and resizing run in sharp (libvips on the libuv thread pool), so the event loop only
 * copies the resized pixels into the batch tensor. BMP, which libvips does not read, is
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

/** Swaps the first and third channel: RGB → BGR, done by libvips off the event loop. */
const TO_BGR: [[number, number, number], [number, number, number], [number, number, number]] = [
  [0, 0, 1],
  [0, 1, 0],
  [1, 0, 0],
];

/**
 * The image fitted into `size`×`size`, 3 channels: flattened onto white, scaled to fit and padded
 * with white around the centre (the same as padding to a square first, then resizing). For a
 * WD14 model (`bgr`) the channels are swapped and the values cast to float32 by libvips, so the
 * bytes returned are the model's input row as is (little-endian float32, 0–255); `rgb` returns
 * plain 8-bit RGB. Every step runs on the thread pool.
 */
export async function decodeSquare(
  source: string | Buffer,
  size: number,
  order: 'bgr' | 'rgb' = 'bgr',
): Promise<Buffer> {
  try {
    const image = (await sharpInput(source))
      .flatten({ background: WHITE })
      .resize(size, size, { fit: 'contain', position: 'centre', background: WHITE })
      .toColourspace('srgb')
      .removeAlpha();
    if (order === 'bgr') image.recomb(TO_BGR);
    const { data, info } = await image
      .raw(order === 'bgr' ? { depth: 'float' } : {})
      .toBuffer({ resolveWithObject: true });
    const bytesPerValue = order === 'bgr' ? 4 : 1;
    if (
      info.width !== size ||
      info.height !== size ||
      info.channels !== 3 ||
      data.length !== size * size * 3 * bytesPerValue
    ) {
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

/**
 * One image's float32 bytes (from `decodeSquare(…, 'bgr')`) into a batch tensor at `offset`
 * (in values): a byte copy, whatever the alignment of the source. A conversion from 8-bit values
 * here would run element by element on the event loop (hundreds of ms per batch at 448²).
 */
export function writePixels(floatBytes: Buffer, target: Float32Array, offset: number): void {
  new Uint8Array(target.buffer, target.byteOffset + offset * 4, floatBytes.length).set(floatBytes);
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
