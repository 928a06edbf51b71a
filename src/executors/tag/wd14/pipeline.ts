/**
 * Decoding ahead of inference. Images are decoded and resized by sharp on the libuv thread pool
 * while the model scores the previous batch in its worker thread: up to `window` decodes are
 * in flight at any time, started in order, so the pool never waits for a whole batch to finish
 * before the next decode starts. The event loop only packs the small resized pixels into the
 * batch tensor (a byte copy of libvips' float32 output).
 */
import { decodeSquare, writePixels } from './preprocess.js';
import { infer, type LoadedModel } from './model.js';

export type Scored<T> = { item: T; scores: Float32Array } | { item: T; error: string };

/**
 * Scores of every item, batch by batch, in order. The consumer's work on one batch (writing its
 * captions) overlaps the decoding of the next ones. Stops starting work once `signal` aborts.
 */
export async function* scoreImages<T>(
  model: LoadedModel,
  items: readonly T[],
  pathOf: (item: T) => string | Buffer,
  options: { batchSize: number; signal: AbortSignal; window?: number },
): AsyncGenerator<Scored<T>[]> {
  // A model with a fixed batch dimension gets exactly that many images per run (padded).
  const batchSize = model.fixedBatch ?? options.batchSize;
  const window = Math.max(options.window ?? batchSize * 2, batchSize);
  const pixelsPerImage = model.size * model.size * 3;
  type Decoded = { item: T; bgr: Buffer } | { item: T; error: string };
  const inFlight: Promise<Decoded>[] = [];
  let started = 0;
  let pixels: Float32Array | null = null;
  const fill = (): void => {
    while (inFlight.length < window && started < items.length && !options.signal.aborted) {
      const item = items[started++]!;
      inFlight.push(
        decodeSquare(pathOf(item), model.size).then(
          (bgr): Decoded => ({ item, bgr }),
          (error: unknown): Decoded => ({
            item,
            error: error instanceof Error ? error.message : String(error),
          }),
        ),
      );
    }
  };

  fill();
  while (inFlight.length > 0 && !options.signal.aborted) {
    const decoded = await Promise.all(inFlight.splice(0, batchSize));
    fill();
    const readable = decoded.filter((d): d is { item: T; bgr: Buffer } => 'bgr' in d);
    const scores = new Map<T, Float32Array>();
    if (readable.length > 0) {
      const rows = model.fixedBatch ?? readable.length;
      // One tensor reused batch after batch (it travels to the model's thread and back): a fresh
      // one of 8×448² floats costs more in page faults on first touch, on the event loop, than
      // the model takes to run. Unused rows of a fixed batch hold stale pixels, scores ignored.
      let tensor: Float32Array | null = pixels;
      pixels = null;
      if (tensor?.length !== rows * pixelsPerImage)
        tensor = new Float32Array(rows * pixelsPerImage);
      const filled: Float32Array = tensor;
      readable.forEach((d, i) => writePixels(d.bgr, filled, i * pixelsPerImage));
      const output: { rows: Float32Array[]; pixels: Float32Array } = await infer(
        model,
        filled,
        rows,
      ).catch((error: Error & { pixels?: Float32Array }) => {
        pixels = error.pixels ?? null;
        throw error;
      });
      pixels = output.pixels;
      readable.forEach((d, i) => scores.set(d.item, output.rows[i]!));
    }
    yield decoded.map((d): Scored<T> => {
      const row = scores.get(d.item);
      return row
        ? { item: d.item, scores: row }
        : { item: d.item, error: 'error' in d ? d.error : 'not scored' };
    });
  }
  // Decodes started before a stop still settle; nothing awaits them, and none can reject.
}
