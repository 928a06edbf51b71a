/**
 * Installed WD14 models (`<models>/wd14/<name>/model.onnx` + `selected_tags.csv`) and the cache of
 * loaded ones. Loading a 300 MB model takes seconds, so a session is kept after a task and reused
 * by the next task and by `/api/tag/analyze`; it is released after `idleMs` without use, or
 * replaced when its files change. A session in use is never released under its user: users hold
 * a lease and release it when done.
 *
 * Input and output names, the input size and whether the batch dimension is dynamic are read from
 * the model's own metadata, never assumed.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, TailorError } from '../../../domain/errors.js';
import { readSelectedTags, type Label } from './labels.js';
import { ModelSession, type ValueInfo } from './session.js';

export const MODEL_FILE = 'model.onnx';
export const LABELS_FILE = 'selected_tags.csv';

export interface LoadedModel {
  name: string;
  dir: string;
  /** The onnxruntime session, in its own worker thread. */
  session: ModelSession;
  inputName: string;
  outputName: string;
  /** Height = width of the model's input. */
  size: number;
  /** The batch size the model requires, or null when its batch dimension is dynamic. */
  fixedBatch: number | null;
  labels: Label[];
}

export interface ModelLease {
  model: LoadedModel;
  /** False when this lease loaded the model, true when it was already in memory. */
  reused: boolean;
  release(): void;
}

interface Entry {
  stamp: string;
  loading: Promise<LoadedModel>;
  users: number;
  idle: NodeJS.Timeout | null;
  /** Files changed since it loaded: released when its last user is done. */
  stale: boolean;
}

/** Reads a model's declared input and output into what inference needs; refuses non-WD14 layouts. */
export function describeSession(
  io: { inputs: readonly ValueInfo[]; outputs: readonly ValueInfo[] },
  labels: readonly Label[],
  where: string,
): Omit<LoadedModel, 'name' | 'dir' | 'session' | 'labels'> {
  const input = io.inputs[0];
  const output = io.outputs[0];
  if (!input || !output || !input.isTensor || !output.isTensor) {
    throw new Error(`${where}: expected one tensor input and one tensor output`);
  }
  const [batch, height, width, channels] = input.shape;
  if (
    input.shape.length !== 4 ||
    channels !== 3 ||
    typeof height !== 'number' ||
    height !== width ||
    height < 1
  ) {
    throw new Error(
      `${where}: input ${input.name} has shape [${input.shape.join(', ')}]; a WD14 tagger takes ` +
        '[batch, size, size, 3] (NHWC)',
    );
  }
  if (input.type !== 'float32') throw new Error(`${where}: input must be float32`);
  const outputs = output.shape[output.shape.length - 1];
  if (typeof outputs === 'number' && outputs !== labels.length) {
    throw new Error(
      `${where}: the model scores ${outputs} tags but ${LABELS_FILE} lists ${labels.length}`,
    );
  }
  return {
    inputName: input.name,
    outputName: output.name,
    size: height,
    fixedBatch: typeof batch === 'number' && batch > 0 ? batch : null,
  };
}

export class Wd14Models {
  private readonly entries = new Map<string, Entry>();

  constructor(
    readonly modelsDir: string,
    private readonly idleMs = 10 * 60_000,
  ) {}

  get root(): string {
    return join(this.modelsDir, 'wd14');
  }

  /** Names of the folders that hold both files, sorted. */
  async installed(): Promise<string[]> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch(
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return [];
        throw error;
      },
    );
    const names: string[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const complete = await Promise.all(
        [MODEL_FILE, LABELS_FILE].map((file) =>
          stat(join(this.root, entry.name, file)).then(
            (s) => s.isFile(),
            () => false,
          ),
        ),
      );
      if (complete.every(Boolean)) names.push(entry.name);
    }
    return names.sort();
  }

  /**
   * The model a task or request uses: the one it names, else `fallback` (TAILOR_WD14_MODEL), else
   * the only installed one. 400 listing what is installed otherwise.
   */
  async resolve(requested: string | undefined, fallback: string | null): Promise<string> {
    const installed = await this.installed();
    const listed =
      installed.length > 0
        ? `installed: ${installed.join(', ')}`
        : `none is installed in ${this.root} (tailor models pull SmilingWolf/wd-vit-tagger-v3)`;
    const name = requested ?? fallback ?? (installed.length === 1 ? installed[0]! : null);
    if (name === null) {
      throw new TailorError(
        ErrorCode.VALIDATION,
        `/model: name a WD14 model (${listed}) or set TAILOR_WD14_MODEL`,
        { field: '/model', installed },
      );
    }
    if (!installed.includes(name)) {
      throw new TailorError(
        ErrorCode.VALIDATION,
        `/model: no WD14 model ${JSON.stringify(name)}; ${listed}`,
        {
          field: '/model',
          installed,
        },
      );
    }
    return name;
  }

  /** A loaded model for the caller's use; call `release()` when done with it. */
  async acquire(name: string): Promise<ModelLease> {
    const dir = join(this.root, name);
    const stamp = await this.stampOf(dir);
    let entry = this.entries.get(name);
    let reused = true;
    if (entry && entry.stamp !== stamp) {
      this.retire(name, entry);
      entry = undefined;
    }
    if (!entry) {
      reused = false;
      const loading = this.load(name, dir);
      entry = { stamp, loading, users: 0, idle: null, stale: false };
      const created = entry;
      this.entries.set(name, created);
      loading.catch(() => {
        if (this.entries.get(name) === created) this.entries.delete(name);
      });
    }
    const held = entry;
    held.users++;
    if (held.idle) {
      clearTimeout(held.idle);
      held.idle = null;
    }
    let model: LoadedModel;
    try {
      model = await held.loading;
    } catch (error) {
      held.users--;
      throw error;
    }
    let released = false;
    return {
      model,
      reused,
      release: () => {
        if (released) return;
        released = true;
        held.users--;
        if (held.users > 0) return;
        if (held.stale) void this.close(held);
        else this.scheduleIdle(name, held);
      },
    };
  }

  /** Releases every idle session now (in-use ones follow when their users are done). */
  async unloadAll(): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const [name, entry] of this.entries) {
      this.entries.delete(name);
      if (entry.idle) clearTimeout(entry.idle);
      if (entry.users === 0) closing.push(this.close(entry));
      else entry.stale = true;
    }
    await Promise.all(closing);
  }

  /** How many models are in memory (for tests and the models listing). */
  get loadedNames(): string[] {
    return [...this.entries.keys()];
  }

  private scheduleIdle(name: string, entry: Entry): void {
    entry.idle = setTimeout(() => {
      if (entry.users > 0 || this.entries.get(name) !== entry) return;
      this.entries.delete(name);
      void this.close(entry);
    }, this.idleMs);
    // An idle model never keeps the process alive.
    entry.idle.unref();
  }

  private retire(name: string, entry: Entry): void {
    this.entries.delete(name);
    if (entry.idle) clearTimeout(entry.idle);
    if (entry.users === 0) void this.close(entry);
    else entry.stale = true;
  }

  private async close(entry: Entry): Promise<void> {
    const model = await entry.loading.catch(() => null);
    await model?.session.release().catch(() => undefined);
  }

  private async stampOf(dir: string): Promise<string> {
    const parts = await Promise.all(
      [MODEL_FILE, LABELS_FILE].map(async (file) => {
        const s = await stat(join(dir, file));
        return `${s.size}:${s.mtimeMs}`;
      }),
    );
    return parts.join('|');
  }

  private async load(name: string, dir: string): Promise<LoadedModel> {
    const labels = await readSelectedTags(join(dir, LABELS_FILE));
    const session = await ModelSession.open(join(dir, MODEL_FILE)).catch((error: Error) => {
      throw new TailorError(ErrorCode.VALIDATION, `model ${name}: ${error.message}`, {
        model: name,
      });
    });
    try {
      const described = describeSession(session, labels, `model ${name}`);
      return { name, dir, session, labels, ...described };
    } catch (error) {
      await session.release().catch(() => undefined);
      throw new TailorError(ErrorCode.VALIDATION, (error as Error).message, { model: name });
    }
  }
}

/**
 * One batch of prepared images (at the start of `pixels`) through the model: a row of scores per
 * image, and the pixel buffer back for the next batch (it is moved to the model's thread and
 * returned, never copied).
 */
export async function infer(
  model: LoadedModel,
  pixels: Float32Array,
  count: number,
): Promise<{ rows: Float32Array[]; pixels: Float32Array }> {
  const output = await model.session.run(pixels, [count, model.size, model.size, 3]);
  const { scores } = output;
  const width = scores.length / count;
  if (width !== model.labels.length) {
    throw new Error(
      `model ${model.name} scored ${width} tags per image; ${LABELS_FILE} lists ${model.labels.length}`,
    );
  }
  const rows: Float32Array[] = [];
  for (let i = 0; i < count; i++) rows.push(scores.subarray(i * width, (i + 1) * width));
  return { rows, pixels: output.pixels };
}
