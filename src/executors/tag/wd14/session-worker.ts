/**
 * The worker thread that owns one onnxruntime session. onnxruntime-node creates sessions and runs
 * them synchronously on the calling thread (its promises only defer the call with setImmediate),
 * so a model run on the main thread would stall the server's event loop for as long as the model
 * takes — seconds per batch for a ViT on a CPU. Here it blocks only this thread.
 *
 * Protocol (see `session.ts`): `{kind:'run', id, pixels, dims}` → `{kind:'scores', id, scores,
 * pixels}` or `{kind:'error', id, message, pixels}`; every buffer is transferred, not copied, and
 * the pixel buffer always goes back to its owner. (onnxruntime refuses SharedArrayBuffer views.)
 * The worker answers `{kind:'ready', inputs, outputs}` once the model has loaded, or
 * `{kind:'failed', message}`.
 */
import { availableParallelism } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';

interface WorkerInput {
  path: string;
}

type Request =
  { kind: 'run'; id: number; pixels: ArrayBuffer; dims: number[] } | { kind: 'release' };

const port = parentPort;
if (!port) throw new Error('session-worker runs as a worker thread');
const { path } = workerData as WorkerInput;

const metadata = (list: readonly ort.InferenceSession.ValueMetadata[]) =>
  list.map((m) =>
    m.isTensor
      ? { name: m.name, isTensor: true, type: m.type, shape: [...m.shape] }
      : { name: m.name, isTensor: false, type: null, shape: [] },
  );

try {
  const session = await ort.InferenceSession.create(path, {
    graphOptimizationLevel: 'all',
    // Decoding the next batch runs beside inference on the thread pool: the model takes half the
    // cores (at least one), not all of them, so neither starves the other or the event loop.
    intraOpNumThreads: Math.max(1, Math.floor(availableParallelism() / 2)),
    interOpNumThreads: 1,
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    // onnxruntime's idle threads spin by default: on a small machine they would take the cores
    // that decode the next batch and run the event loop.
  });
  const inputName = session.inputNames[0]!;
  const outputName = session.outputNames[0]!;
  port.on('message', (request: Request) => {
    if (request.kind === 'release') {
      // Nothing else is queued: the owner releases only when no run is in flight.
      void session.release().finally(() => port.close());
      return;
    }
    void (async () => {
      try {
        const length = request.dims.reduce((a, b) => a * b, 1);
        const tensor = new ort.Tensor(
          'float32',
          new Float32Array(request.pixels, 0, length),
          request.dims,
        );
        const outputs = await session.run({ [inputName]: tensor });
        const output = outputs[outputName];
        if (!output || !(output.data instanceof Float32Array)) {
          throw new Error(`the model returned no float32 ${outputName}`);
        }
        const scores = new Float32Array(output.data);
        // The pixels go back with the scores, for the owner to fill with its next batch.
        port.postMessage(
          { kind: 'scores', id: request.id, scores: scores.buffer, pixels: request.pixels },
          [scores.buffer, request.pixels],
        );
      } catch (error) {
        port.postMessage(
          {
            kind: 'error',
            id: request.id,
            message: error instanceof Error ? error.message : String(error),
            pixels: request.pixels,
          },
          [request.pixels],
        );
      }
    })();
  });
  port.postMessage({
    kind: 'ready',
    inputs: metadata(session.inputMetadata),
    outputs: metadata(session.outputMetadata),
  });
} catch (error) {
  port.postMessage({
    kind: 'failed',
    message: error instanceof Error ? error.message : String(error),
  });
}
