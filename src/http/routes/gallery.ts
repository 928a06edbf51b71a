import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, relative, sep } from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { TASK_ID_PATTERN, TASK_TYPE_PATTERN, type Task } from '../../domain/task.js';
import type { TaskService } from '../../scheduler/tasks.js';
import { ok } from '../envelope.js';
import { envelope, errorResponses } from '../schemas.js';
import { confinedPath } from './files.js';

/**
 * Every image the server holds, whatever task type wrote it: the image files under each existing
 * task's output folder, newest first, each with its JSON sidecar. It knows no task type: sidecars
 * are passed through as they are, and the console's pages decide what their fields mean.
 */

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif']);
/** A sidecar is metadata; a larger `.json` beside an image is something else and is not read. */
const SIDECAR_MAX_BYTES = 256 * 1024;
/** Folders deeper than this under a task's output folder are not walked (crawls nest one level). */
const MAX_DEPTH = 4;
const TASK_PAGE = 100;

const GalleryQuery = Type.Object(
  {
    type: Type.Optional(
      Type.Union([Type.String({ pattern: TASK_TYPE_PATTERN }), Type.Literal('')], {
        description: "Only images of this task type; '' means any",
      }),
    ),
    task_id: Type.Optional(
      Type.Union([Type.String({ pattern: TASK_ID_PATTERN }), Type.Literal('')], {
        description: "Only images of this task; '' means any",
      }),
    ),
    // Query values arrive as strings and ajv never coerces here: digit strings, checked by pattern.
    page: Type.Optional(
      Type.String({ pattern: '^[1-9][0-9]{0,5}$', description: 'A positive integer, default 1' }),
    ),
    page_size: Type.Optional(
      Type.String({
        pattern: '^(?:[1-9]|[1-9][0-9]|1[0-9][0-9]|200)$',
        description: 'An integer from 1 to 200, default 60',
      }),
    ),
  },
  { additionalProperties: false },
);

const GalleryImage = Type.Object({
  task_id: Type.String(),
  task_type: Type.String(),
  file: Type.String({ description: "Path relative to the task's output folder, '/'-separated" }),
  url: Type.String({ description: 'Where GET /api/files serves it' }),
  size: Type.Integer({ description: 'Bytes' }),
  modified_at: Type.String({ format: 'date-time' }),
  sidecar: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], {
    description: 'The JSON sidecar (<stem>.json, or <work>.json for <work>_p<n> pages), or null',
  }),
});

interface Found {
  task: Task;
  path: string;
  file: string;
  size: number;
  mtimeMs: number;
}

/** Image files under `root` (already confined), as paths relative to it. */
async function imagesUnder(root: string, depth = 0): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const entry of entries) {
    const path = join(root, entry.name);
    // Symlinks are not followed: a link out of the data directory must not widen what is listed.
    if (entry.isDirectory() && depth < MAX_DEPTH)
      found.push(...(await imagesUnder(path, depth + 1)));
    else if (entry.isFile() && IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase()))
      found.push(path);
  }
  return found;
}

async function readSidecar(image: string): Promise<Record<string, unknown> | null> {
  const stem = image.slice(0, image.length - extname(image).length);
  const candidates = [`${stem}.json`];
  // Multi-page works are saved as <work>_p<n>.<ext> with one sidecar <work>.json for the work.
  const page = /^(.*)_p\d+$/.exec(stem);
  if (page?.[1]) candidates.push(`${page[1]}.json`);
  for (const candidate of candidates) {
    try {
      const info = await stat(candidate);
      if (!info.isFile() || info.size > SIDECAR_MAX_BYTES) continue;
      const value: unknown = JSON.parse(await readFile(candidate, 'utf8'));
      if (value && typeof value === 'object' && !Array.isArray(value))
        return value as Record<string, unknown>;
    } catch {
      // Missing or not JSON: the next candidate, or no metadata.
    }
  }
  return null;
}

async function tasksOf(tasks: TaskService, type?: string, taskId?: string): Promise<Task[]> {
  if (taskId) {
    const task = await tasks.get(taskId);
    return task && (!type || task.type === type) ? [task] : [];
  }
  const all: Task[] = [];
  for (let page = 1; ; page++) {
    const { tasks: batch, total } = await tasks.list({ page, pageSize: TASK_PAGE, type });
    all.push(...batch);
    if (batch.length < TASK_PAGE || all.length >= total) return all;
  }
}

export const galleryRoutes: FastifyPluginAsyncTypebox<{ tasks: TaskService }> = async (
  app,
  { tasks },
) => {
  app.get(
    '/api/gallery',
    {
      schema: {
        tags: ['files'],
        summary: 'Images in the output folders of existing tasks, newest first',
        description:
          'Every png/jpg/jpeg/webp/gif under a task output folder, with its JSON sidecar when one ' +
          'is present. Files of deleted tasks are not listed.',
        querystring: GalleryQuery,
        response: {
          200: envelope(
            Type.Object({
              images: Type.Array(GalleryImage),
              pagination: Type.Object({
                page: Type.Integer(),
                page_size: Type.Integer(),
                total: Type.Integer(),
              }),
            }),
          ),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const page = Number(request.query.page ?? 1);
      const pageSize = Number(request.query.page_size ?? 60);
      const found: Found[] = [];
      for (const task of await tasksOf(
        tasks,
        request.query.type || undefined,
        request.query.task_id || undefined,
      )) {
        const folder = tasks.outputDirOf(task.id);
        // The same confinement as file serving: a task folder that is a symlink out of the
        // outputs folder is refused (and simply not listed).
        const root = await confinedPath(folder, '.', dirname(folder)).catch(() => null);
        if (!root) continue;
        for (const path of await imagesUnder(root)) {
          const info = await stat(path).catch(() => null);
          if (!info) continue;
          const file = relative(root, path).split(sep).join('/');
          found.push({ task, path, file, size: info.size, mtimeMs: info.mtimeMs });
        }
      }
      found.sort((a, b) => b.mtimeMs - a.mtimeMs || a.file.localeCompare(b.file));
      const slice = found.slice((page - 1) * pageSize, page * pageSize);
      const images = await Promise.all(
        slice.map(async (image) => ({
          task_id: image.task.id,
          task_type: image.task.type,
          file: image.file,
          url: `/api/files/${encodeURIComponent(image.task.id)}/${image.file
            .split('/')
            .map(encodeURIComponent)
            .join('/')}`,
          size: image.size,
          modified_at: new Date(image.mtimeMs).toISOString(),
          sidecar: await readSidecar(image.path),
        })),
      );
      return ok({ images, pagination: { page, page_size: pageSize, total: found.length } });
    },
  );
};
