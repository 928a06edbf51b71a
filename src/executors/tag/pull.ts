/**
 * Downloading a WD14 model from a Hugging Face endpoint (`HF_ENDPOINT`, a mirror works the same):
 * `GET {endpoint}/{repo}/resolve/main/{file}` for `model.onnx` and `selected_tags.csv`, into
 * `<models>/wd14/<name>/`.
 *
 * Each file is written to `<file>.part` and renamed when complete, so a model folder never holds a
 * truncated model that would load as garbage. An interrupted download is resumed from the bytes
 * already in `.part` with an HTTP Range request — within one pull (a few retries) and by the next
 * pull. A server that ignores the Range (200 instead of 206) restarts the file from zero.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { LABELS_FILE, MODEL_FILE } from './wd14/model.js';

export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co';
export const MODEL_FILES = [MODEL_FILE, LABELS_FILE] as const;

export interface PullProgress {
  file: string;
  received: number;
  /** Size of the whole file, when the server says. */
  total: number | null;
  /** Bytes that were already on disk when this request started. */
  resumedFrom: number;
}

export interface PullOptions {
  /** `owner/name`, e.g. `SmilingWolf/wd-vit-tagger-v3`. */
  repo: string;
  /** Folder name under `<models>/wd14`; default the repo's name. */
  name?: string | undefined;
  modelsDir: string;
  endpoint?: string | undefined;
  /** Git revision on the hub. */
  revision?: string | undefined;
  /** `HF_TOKEN`, for gated or private repos. */
  token?: string | null | undefined;
  /** Download again even if the files exist. */
  force?: boolean | undefined;
  /** Attempts per file after a broken connection, each resuming where the last one stopped. */
  retries?: number | undefined;
  retryDelayMs?: number | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: PullProgress) => void) | undefined;
  onStart?: ((file: string, total: number | null, resumedFrom: number) => void) | undefined;
  onFileDone?: ((file: string, bytes: number, skipped: boolean) => void) | undefined;
}

export interface PullResult {
  dir: string;
  name: string;
  files: { file: string; bytes: number; skipped: boolean; resumed: boolean }[];
}

const REPO_PATTERN = /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/;
const NAME_PATTERN = /^[A-Za-z0-9][\w.-]*$/;

export class PullError extends Error {
  override name = 'PullError';
}

const sizeOf = (path: string): Promise<number | null> =>
  stat(path).then(
    (s) => s.size,
    () => null,
  );

export async function pullModel(options: PullOptions): Promise<PullResult> {
  if (!REPO_PATTERN.test(options.repo)) {
    throw new PullError(`repo must look like owner/name, got ${JSON.stringify(options.repo)}`);
  }
  const name = options.name ?? options.repo.split('/')[1]!;
  if (!NAME_PATTERN.test(name) || name.includes('..')) {
    throw new PullError(`--name must be a plain folder name, got ${JSON.stringify(name)}`);
  }
  const endpoint = (options.endpoint ?? DEFAULT_HF_ENDPOINT).replace(/\/+$/, '');
  const revision = encodeURIComponent(options.revision ?? 'main');
  const dir = join(options.modelsDir, 'wd14', name);
  await mkdir(dir, { recursive: true });
  const files: PullResult['files'] = [];
  for (const file of MODEL_FILES) {
    const target = join(dir, file);
    const existing = options.force ? null : await sizeOf(target);
    if (existing !== null) {
      files.push({ file, bytes: existing, skipped: true, resumed: false });
      options.onFileDone?.(file, existing, true);
      continue;
    }
    const url = `${endpoint}/${options.repo}/resolve/${revision}/${file}`;
    const { bytes, resumed } = await downloadResumable(url, target, file, options);
    files.push({ file, bytes, skipped: false, resumed });
    options.onFileDone?.(file, bytes, false);
  }
  return { dir, name, files };
}

async function downloadResumable(
  url: string,
  target: string,
  file: string,
  options: PullOptions,
): Promise<{ bytes: number; resumed: boolean }> {
  const partial = `${target}.part`;
  if (options.force) await rm(partial, { force: true });
  const retries = options.retries ?? 3;
  let resumed = false;
  for (let attempt = 0; ; attempt++) {
    const offset = (await sizeOf(partial)) ?? 0;
    if (offset > 0) resumed = true;
    try {
      const total = await downloadOnce(url, partial, file, offset, options);
      await rename(partial, target);
      return { bytes: total, resumed };
    } catch (error) {
      if (options.signal?.aborted || error instanceof PullError || attempt >= retries) {
        throw error instanceof PullError
          ? error
          : new PullError(
              `${file}: download interrupted (${(error as Error).message}); ` +
                `${(await sizeOf(partial)) ?? 0} bytes kept in ${partial}, run the pull again to resume`,
              { cause: error },
            );
      }
      await sleep(options.retryDelayMs ?? 1000 * (attempt + 1));
    }
  }
}

/** One request from `offset`; resolves to the file's complete size once `partial` holds it all. */
async function downloadOnce(
  url: string,
  partial: string,
  file: string,
  offset: number,
  options: PullOptions,
): Promise<number> {
  const headers: Record<string, string> = { 'user-agent': 'pixivtailor-task-manager' };
  if (offset > 0) headers.range = `bytes=${offset}-`;
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(url, {
    headers,
    redirect: 'follow',
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (response.status === 416 && offset > 0) {
    // Nothing left past `offset`: complete if the server's size is exactly what we have.
    await response.body?.cancel();
    const total = /\/(\d+)$/.exec(response.headers.get('content-range') ?? '')?.[1];
    if (total !== undefined && Number(total) === offset) return offset;
    await rm(partial, { force: true });
    throw new Error(`the server refused to resume at byte ${offset}; starting over`);
  }
  if (response.status !== 200 && response.status !== 206) {
    await response.body?.cancel();
    const hint =
      response.status === 401 || response.status === 403
        ? ' (a gated repo needs HF_TOKEN)'
        : response.status === 404
          ? ' (no such repo or file)'
          : '';
    throw new PullError(`${file}: ${url} answered HTTP ${response.status}${hint}`);
  }
  if (!response.body) throw new Error('empty response body');
  let start = 0;
  let total: number | null = null;
  const length = response.headers.get('content-length');
  if (response.status === 206) {
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
    if (!range || Number(range[1]) !== offset) {
      await response.body.cancel();
      await rm(partial, { force: true });
      throw new Error('the server resumed at a different byte than asked; starting over');
    }
    start = offset;
    total = range[3] === '*' ? null : Number(range[3]);
  } else {
    // 200: the whole file (a server that ignores Range, or a fresh start).
    total = length === null ? null : Number(length);
  }
  options.onStart?.(file, total, start);
  let received = start;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      options.onProgress?.({ file, received, total, resumedFrom: start });
      callback(null, chunk);
    },
  });
  await pipeline(
    Readable.fromWeb(response.body),
    counter,
    createWriteStream(partial, { flags: start > 0 ? 'a' : 'w' }),
    ...(options.signal ? [{ signal: options.signal }] : []),
  );
  if (total !== null && received !== total) {
    throw new Error(`received ${received} of ${total} bytes`);
  }
  return received;
}
