import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import sharp from 'sharp';
import type { Task } from '../../../src/domain/task.js';
import type { TagResult } from '../../../src/executors/tag/executor.js';
import { createTagModule } from '../../../src/executors/tag/module.js';
import { installWd14Model } from '../../fakes/wd14-model.js';
import {
  rawPost,
  startTestServer,
  tempDir,
  waitForStatus,
  type TestServer,
} from '../../helpers/server.js';

export interface TagHarness {
  server: TestServer;
  /** An image root outside the data dir (TAILOR_IMAGE_ROOTS). */
  images: string;
  modelsDir: string;
  /** A folder outside every allowed root. */
  outside: string;
  post(path: string, body: unknown): ReturnType<typeof rawPost>;
  /** Create a tag task through /api/tag/create; throws on an error answer. */
  tag(config: Record<string, unknown>): Promise<Task>;
  /** Create and wait until it ends; returns the task and its result. */
  tagAndWait(config: Record<string, unknown>): Promise<{ task: Task; result: TagResult }>;
  waitDone(id: string): Promise<{ task: Task; result: TagResult }>;
  close(): Promise<void>;
}

export async function startTagHarness(
  options: {
    webuiUrl?: string;
    installModel?: boolean;
    wd14Model?: string;
    modelIdleMs?: number;
  } = {},
): Promise<TagHarness> {
  const images = tempDir('tailor-tag-images-');
  const modelsDir = tempDir('tailor-tag-models-');
  const outside = tempDir('tailor-tag-outside-');
  if (options.installModel !== false) installWd14Model(modelsDir);
  const server = await startTestServer({
    config: {
      modelsDir,
      imageRoots: [images],
      ...(options.webuiUrl ? { sdWebuiUrl: options.webuiUrl } : {}),
      ...(options.wd14Model ? { wd14Model: options.wd14Model } : {}),
    },
    server: { modules: [createTagModule({ modelIdleMs: options.modelIdleMs ?? 60_000 })] },
  });
  const post = (path: string, body: unknown) => rawPost(server.url, path, JSON.stringify(body));
  const waitDone = async (id: string) => {
    const task = await waitForStatus(
      server.client,
      id,
      ['completed', 'failed', 'cancelled'],
      60_000,
    );
    return { task, result: task.result as unknown as TagResult };
  };
  const tag = async (config: Record<string, unknown>): Promise<Task> => {
    const answer = await post('/api/tag/create', config);
    if (answer.status !== 200) throw new Error(`create failed: ${answer.text}`);
    return answer.body!.data as Task;
  };
  return {
    server,
    images,
    modelsDir,
    outside,
    post,
    tag,
    waitDone,
    async tagAndWait(config) {
      const created = await tag(config);
      const done = await waitDone(created.id);
      if (done.task.status !== 'completed') {
        throw new Error(`task ${done.task.status}: ${done.task.error_message}`);
      }
      return done;
    },
    async close() {
      await server.dispose();
      for (const dir of [images, modelsDir, outside]) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type Rgb = readonly [number, number, number];
export const RED: Rgb = [255, 0, 0];
export const GREEN: Rgb = [0, 255, 0];
export const BLUE: Rgb = [0, 0, 255];

/** A 24-bit bottom-up BMP of one colour (libvips cannot write BMP). */
export function solidBmp(rgb: Rgb, width: number, height: number): Buffer {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const size = 54 + stride * height;
  const out = Buffer.alloc(size);
  out.write('BM', 0, 'latin1');
  out.writeUInt32LE(size, 2);
  out.writeUInt32LE(54, 10);
  out.writeUInt32LE(40, 14);
  out.writeInt32LE(width, 18);
  out.writeInt32LE(height, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(24, 28);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = 54 + y * stride + x * 3;
      out[at] = rgb[2];
      out[at + 1] = rgb[1];
      out[at + 2] = rgb[0];
    }
  }
  return out;
}

/** An image of one colour, in the format its extension names. `alpha` 0–1 adds a channel. */
export async function writeImage(
  path: string,
  rgb: Rgb,
  options: { width?: number; height?: number; alpha?: number } = {},
): Promise<void> {
  const width = options.width ?? 32;
  const height = options.height ?? 32;
  mkdirSync(dirname(path), { recursive: true });
  const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  if (ext === 'bmp') {
    writeFileSync(path, solidBmp(rgb, width, height));
    return;
  }
  const image = sharp({
    create: {
      width,
      height,
      channels: options.alpha === undefined ? 3 : 4,
      background: { r: rgb[0], g: rgb[1], b: rgb[2], alpha: options.alpha ?? 1 },
    },
  });
  const format = ext === 'jpg' ? 'jpeg' : ext;
  if (format === 'avif') await image.avif({ quality: 90 }).toFile(path);
  else if (format === 'jpeg') await image.jpeg({ quality: 95 }).toFile(path);
  else if (format === 'png' || format === 'webp' || format === 'gif') {
    await image.toFormat(format).toFile(path);
  } else throw new Error(`no writer for .${ext}`);
}
