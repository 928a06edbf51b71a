import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import sharp from 'sharp';
import { loadConfig } from '../../src/config/config.js';
import { createTagModule } from '../../src/executors/tag/module.js';
import type { TagResult } from '../../src/executors/tag/executor.js';
import { decodeSquare } from '../../src/executors/tag/wd14/preprocess.js';
import type { Task } from '../../src/domain/task.js';
import { createLogger } from '../../src/logging.js';
import type { TaskService } from '../../src/scheduler/tasks.js';
import { moduleSettings, startServer } from '../../src/server.js';
import { installWd14Model } from '../../test/fakes/wd14-model.js';
import type { Flags } from '../lib/args.js';
import { interleave, median, printResult, printTable, round } from '../lib/stats.js';

/**
 * Tagging throughput against its ceiling. N Pixiv-sized JPEGs (1200×1700, noisy so that they
 * decode like photos, not like flat colour) are tagged by a real server with the small test model
 * at the real WD14 input size (448): the model costs almost nothing, so the run can at best
 * reach the speed of decoding and resizing the same images with the same sharp calls and the
 * same number in flight — the ceiling, measured bare beside it. The event loop's delay (p99) is
 * sampled during the tag run: decoding and inference must stay off the loop.
 */
export async function tagScenario(flags: Flags): Promise<void> {
  const images = flags.int('images', 500);
  const width = flags.int('width', 1200);
  const height = flags.int('height', 1700);
  const size = flags.int('model-size', 448);
  const batch = flags.int('batch-size', 8);
  const rounds = flags.int('rounds', 1);
  const work = mkdtempSync(join(tmpdir(), 'tailor-bench-tag-'));
  try {
    const dir = join(work, 'images');
    await generateImages(dir, images, width, height);
    const modelsDir = join(work, 'models');
    installWd14Model(modelsDir, 'bench', { size });
    const paths = Array.from({ length: images }, (_, i) => join(dir, nameOf(i)));
    // One untimed pass: the page cache and sharp's first-use costs are the same for both runs.
    await decodeAll(paths.slice(0, Math.min(50, images)), size, batch * 2);

    const runs = await interleave<{ perS: number; seconds: number; p99Ms?: number }>(rounds, [
      ['ceiling', async () => decodeAll(paths, size, batch * 2)],
      ['tag', async () => tagAll(work, dir, modelsDir, batch)],
    ]);
    const ceiling = runs.get('ceiling')!.flatMap((r) => (r ? [r] : []));
    const tag = runs.get('tag')!.flatMap((r) => (r ? [r] : []));
    const ceilingPerS = median(ceiling.map((r) => r.perS));
    const tagPerS = median(tag.map((r) => r.perS));
    const p99 = median(tag.map((r) => r.p99Ms ?? NaN));
    const ratio = tagPerS / ceilingPerS;
    printTable(
      `tag — ${images} JPEGs ${width}×${height} → ${size}×${size}, batches of ${batch}` +
        (rounds > 1 ? `, median of ${rounds} rounds` : ''),
      [
        ['run', 'images/s', 'seconds', 'event-loop p99 ms'],
        [
          'decode + resize (ceiling)',
          round(ceilingPerS, 1),
          round(median(ceiling.map((r) => r.seconds))),
          '-',
        ],
        [
          'tag task (wd14)',
          round(tagPerS, 1),
          round(median(tag.map((r) => r.seconds))),
          round(p99),
        ],
        ['ratio (target ≥ 0.9)', round(ratio), '', ''],
      ],
    );
    printResult({
      scenario: 'tag',
      images,
      width,
      height,
      model_size: size,
      batch_size: batch,
      rounds,
      ceiling_images_per_s: round(ceilingPerS, 1),
      tag_images_per_s: round(tagPerS, 1),
      ratio: round(ratio),
      event_loop_p99_ms: round(p99),
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const nameOf = (i: number): string => `${String(i).padStart(5, '0')}_p0.jpg`;

/** A few distinct noisy pages, copied to N names (decoding cost is per file, not per content). */
async function generateImages(dir: string, count: number, width: number, height: number) {
  mkdirSync(dir, { recursive: true });
  const distinct = Math.min(count, 8);
  for (let i = 0; i < distinct; i++) {
    await sharp({
      create: {
        width,
        height,
        channels: 3,
        background: { r: 0, g: 0, b: 0 },
        noise: { type: 'gaussian', mean: 100 + i * 10, sigma: 40 },
      },
    })
      .blur(1.5)
      .jpeg({ quality: 90 })
      .toFile(join(dir, nameOf(i)));
  }
  for (let i = distinct; i < count; i++) {
    copyFileSync(join(dir, nameOf(i % distinct)), join(dir, nameOf(i)));
  }
}

/** The bare ceiling: the executor's decode call, `window` in flight, nothing else. */
async function decodeAll(paths: readonly string[], size: number, window: number) {
  const started = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < paths.length) await decodeSquare(paths[next++]!, size, 'rgb');
  };
  await Promise.all(Array.from({ length: window }, worker));
  const seconds = (performance.now() - started) / 1000;
  return { perS: paths.length / seconds, seconds };
}

/** A real server (SQLite, silent) runs one tag task over the folder; timed create → completed. */
async function tagAll(work: string, dir: string, modelsDir: string, batch: number) {
  const dataDir = mkdtempSync(join(work, 'data-'));
  const modules = [createTagModule()];
  const config = loadConfig(
    { host: '127.0.0.1', port: 0, dataDir, modelsDir, imageRoots: [work], logLevel: 'silent' },
    {},
    undefined,
    moduleSettings(modules),
  );
  const server = await startServer({ config, modules, logger: createLogger('silent') });
  const delay = monitorEventLoopDelay({ resolution: 5 });
  try {
    // Load the model first: a server keeps it loaded across tasks, so loading is not per-run cost.
    const warm = await server.tasks.create({
      type: 'tag',
      config: { input_dir: dir, limit: 1, save_type: 'csv' },
    });
    await finished(server.tasks, warm.id);
    delay.enable();
    const started = performance.now();
    const task = await server.tasks.create({
      type: 'tag',
      config: { input_dir: dir, batch_size: batch, overwrite: true },
    });
    const done = await finished(server.tasks, task.id);
    const seconds = (performance.now() - started) / 1000;
    delay.disable();
    const result = done.result as unknown as TagResult;
    if (done.status !== 'completed' || result.tagged !== result.images) {
      throw new Error(`tag run ${done.status}: ${done.error_message ?? JSON.stringify(result)}`);
    }
    return { perS: result.tagged / seconds, seconds, p99Ms: delay.percentile(99) / 1e6 };
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function finished(tasks: TaskService, id: string): Promise<Task> {
  for (;;) {
    const task = await tasks.get(id);
    if (task && ['completed', 'failed', 'cancelled'].includes(task.status)) return task;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
