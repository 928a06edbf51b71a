/**
 * An onnxruntime session in a worker thread (see `session-worker.ts` for why): the main thread
 * only hands over pixels and receives scores. The pixel buffer is transferred to the worker and
 * back (no copy), so the caller reuses one buffer batch after batch instead of allocating one.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

export interface ValueInfo {
  name: string;
  isTensor: boolean;
  type: string | null;
  shape: (number | string)[];
}

type Reply =
  | { kind: 'ready'; inputs: ValueInfo[]; outputs: ValueInfo[] }
  | { kind: 'failed'; message: string }
  | { kind: 'scores'; id: number; scores: ArrayBuffer; pixels: ArrayBuffer }
  | { kind: 'error'; id: number; message: string; pixels: ArrayBuffer };

export interface RunOutput {
  scores: Float32Array;
  /** The pixel buffer handed to `run`, returned for the next batch. */
  pixels: Float32Array;
}

/**
 * The worker's entry beside this file: compiled (`.js`), or from source (`.ts`, in tests and the
 * bench). A worker's entry module is loaded before any `--import` hook it inherits applies, so
 * from source it registers tsx itself first.
 */
function startWorker(workerData: { path: string }): Worker {
  const ext = extname(fileURLToPath(import.meta.url));
  const entry = new URL(`./session-worker${ext}`, import.meta.url);
  if (ext !== '.ts') return new Worker(entry, { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap =
    `import(${JSON.stringify(tsx)})` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}

export class ModelSession {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve(output: RunOutput): void; reject(error: Error & { pixels?: Float32Array }): void }
  >();
  private closed: Error | null = null;
  private io: { inputs: ValueInfo[]; outputs: ValueInfo[] } | null = null;
  private readonly ready: Promise<void>;

  private constructor(private readonly worker: Worker) {
    let loaded!: () => void;
    let failed!: (error: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      loaded = resolve;
      failed = reject;
    });
    // One listener for the whole life of the worker (removing listeners from a Worker also
    // removes what keeps its message port alive).
    worker.on('message', (reply: Reply) => {
      if (reply.kind === 'ready') {
        this.io = { inputs: reply.inputs, outputs: reply.outputs };
        loaded();
        return;
      }
      if (reply.kind === 'failed') {
        failed(new Error(reply.message));
        return;
      }
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      const pixels = new Float32Array(reply.pixels);
      if (reply.kind === 'scores') {
        waiting?.resolve({ scores: new Float32Array(reply.scores), pixels });
      } else waiting?.reject(Object.assign(new Error(reply.message), { pixels }));
    });
    const fail = (error: Error): void => {
      failed(error);
      this.closed ??= error;
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the model's worker thread exited (${code})`)));
  }

  get inputs(): ValueInfo[] {
    return this.io?.inputs ?? [];
  }

  get outputs(): ValueInfo[] {
    return this.io?.outputs ?? [];
  }

  /** Loads the model in a new worker; rejects with onnxruntime's message if it cannot. */
  static async open(path: string): Promise<ModelSession> {
    const session = new ModelSession(startWorker({ path }));
    try {
      await session.ready;
    } catch (error) {
      await session.worker.terminate();
      throw error;
    }
    // An idle model never keeps the process alive; a run in flight does (see `run`).
    session.worker.unref();
    return session;
  }

  /**
   * Scores of `dims[0]` images whose pixels fill the start of `pixels`. The buffer is moved to
   * the worker (it is detached here until the promise settles) and comes back in the answer.
   */
  run(pixels: Float32Array, dims: number[]): Promise<RunOutput> {
    if (this.closed) return Promise.reject(this.closed);
    if (pixels.byteOffset !== 0 || pixels.byteLength !== pixels.buffer.byteLength) {
      return Promise.reject(new Error('run takes a Float32Array that owns its whole buffer'));
    }
    const buffer = pixels.buffer as ArrayBuffer;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ kind: 'run', id, pixels: buffer, dims }, [buffer]);
    });
  }

  /** Frees the session and ends its thread (after any run in flight has answered). */
  async release(): Promise<void> {
    if (this.closed) return;
    this.closed = new Error('the model was released');
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.ref();
    this.worker.postMessage({ kind: 'release' });
    // A worker that does not end on its own within a few seconds is stopped.
    const timer = setTimeout(() => void this.worker.terminate(), 5_000);
    timer.unref();
    await exited;
    clearTimeout(timer);
  }
}
