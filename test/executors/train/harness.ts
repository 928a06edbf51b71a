import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import type { ConfigInput } from '../../../src/config/config.js';
import type { Task } from '../../../src/domain/task.js';
import { createTrainModule } from '../../../src/executors/train/module.js';
import type { TrainResult } from '../../../src/executors/train/executor.js';
import type { TrainTimings } from '../../../src/executors/train/executor.js';
import { startTestServer, tempDir, waitForStatus, type TestServer } from '../../helpers/server.js';

export const FAKE_KOHYA_DIR = fileURLToPath(new URL('../../fakes/kohya/', import.meta.url));

// The fake trainer is imported as a module; no bytecode cache in the source tree.
process.env.PYTHONDONTWRITEBYTECODE = '1';

export const FAST_TIMINGS: Partial<TrainTimings> = {
  interruptGraceMs: 400,
  terminateGraceMs: 400,
  progressLogIntervalMs: 200,
};

export interface Knobs {
  steps_per_epoch?: number;
  step_delay?: number;
  fail_at_step?: number;
  ignore_sigint?: boolean;
  ignore_sigterm?: boolean;
  grandchild?: boolean;
}

export interface TrainHarness {
  server: TestServer;
  dataDir: string;
  /** A dataset folder under the data dir: `images` PNGs, the first `captions` captioned. */
  dataset(name: string, images: number, captions: number, knobs?: Knobs): string;
  /** An (empty) model file under `<models>/<folder>`. */
  model(folder: string, name: string): string;
  post(path: string, body: unknown): Promise<{ status: number; body: ApiBody }>;
  get(path: string): Promise<{ status: number; body: ApiBody }>;
  waitFor(id: string, statuses: string[], timeoutMs?: number): Promise<Task>;
  close(): Promise<void>;
}

export interface ApiBody {
  status: { code: number; message: string; details?: unknown };
  data?: unknown;
}

export async function startTrainHarness(
  options: { config?: ConfigInput; timings?: Partial<TrainTimings> } = {},
): Promise<TrainHarness> {
  const dataDir = tempDir('tailor-train-');
  const server = await startTestServer({
    dataDir,
    server: { modules: [createTrainModule({ ...FAST_TIMINGS, ...options.timings })] },
    config: { kohyaDir: FAKE_KOHYA_DIR, kohyaPython: 'python3', ...options.config },
  });
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(server.url + path, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    return { status: response.status, body: (await response.json()) as ApiBody };
  };
  return {
    server,
    dataDir,
    dataset(name, images, captions, knobs) {
      const dir = join(dataDir, name);
      mkdirSync(dir, { recursive: true });
      for (let i = 0; i < images; i++) {
        writeFileSync(join(dir, `img${i}.png`), `png ${i}`);
        if (i < captions) writeFileSync(join(dir, `img${i}.txt`), `1girl, sample ${i}`);
      }
      if (knobs) writeFileSync(join(dir, 'fake_kohya.json'), JSON.stringify(knobs));
      return dir;
    },
    model(folder, name) {
      const dir = join(dataDir, 'models', folder);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, name), 'weights');
      return join(dir, name);
    },
    post: (path, body) => call('POST', path, body),
    get: (path) => call('GET', path),
    waitFor: (id, statuses, timeoutMs = 30_000) =>
      waitForStatus(server.client, id, statuses, timeoutMs),
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function isTrainResult(value: unknown): value is TrainResult {
  return typeof value === 'object' && value !== null && 'loras' in value && 'loss_curve' in value;
}

export function trainResultOf(task: Task): TrainResult {
  if (!isTrainResult(task.result)) throw new Error(`task ${task.id} has no training result`);
  return task.result;
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export interface FakeRun {
  argv: string[];
  family: string;
  cwd: string;
  pid: number;
  pgid: number;
  grandchild: number | null;
}

export function fakeRunOf(outputDir: string): FakeRun {
  return JSON.parse(readFileSync(join(outputDir, 'fake_kohya_run.json'), 'utf8')) as FakeRun;
}

/** Whether the process runs (a zombie awaiting its reaper counts as gone). */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
