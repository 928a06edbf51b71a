import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { dirname, extname, resolve, sep } from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorCode, TailorError } from '../../domain/errors.js';
import { TaskId } from '../schemas.js';

const CONTENT_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
};

const inside = (path: string, root: string): boolean =>
  path === root || path.startsWith(root + sep);

/**
 * Resolve `relative` inside `root`, following symlinks; anything that lands outside is refused.
 * With `within`, `root` itself must also resolve inside it: a task folder that is a symlink out of
 * the data directory would otherwise make everything it points to servable.
 */
export async function confinedPath(
  root: string,
  relative: string,
  within?: string,
): Promise<string> {
  const realRoot = await realpath(root).catch(() => null);
  if (!realRoot) throw new TailorError(ErrorCode.NOT_FOUND, 'no such file');
  if (within !== undefined) {
    const realWithin = await realpath(within).catch(() => null);
    if (!realWithin || !inside(realRoot, realWithin)) {
      throw new TailorError(ErrorCode.FORBIDDEN_PATH, 'path leaves the allowed folder');
    }
  }
  const candidate = resolve(realRoot, relative);
  if (candidate !== realRoot && !candidate.startsWith(realRoot + sep)) {
    throw new TailorError(ErrorCode.FORBIDDEN_PATH, 'path leaves the allowed folder');
  }
  const real = await realpath(candidate).catch(() => null);
  if (!real) throw new TailorError(ErrorCode.NOT_FOUND, 'no such file');
  if (real !== realRoot && !real.startsWith(realRoot + sep)) {
    throw new TailorError(ErrorCode.FORBIDDEN_PATH, 'path leaves the allowed folder');
  }
  return real;
}

/** Output files, read-only, confined to the task's own folder under the data directory. */
export const fileRoutes: FastifyPluginAsyncTypebox<{
  outputDirOf: (taskId: string) => string;
}> = async (app, { outputDirOf }) => {
  app.get(
    '/api/files/:task_id/*',
    {
      schema: {
        tags: ['files'],
        summary: "A file from a task's output folder",
        params: Type.Object({
          task_id: TaskId,
          '*': Type.String({ minLength: 1, maxLength: 1024 }),
        }),
      },
    },
    async (request, reply) => {
      const folder = outputDirOf(request.params.task_id);
      const file = await confinedPath(folder, request.params['*'], dirname(folder));
      const info = await stat(file);
      if (!info.isFile()) throw new TailorError(ErrorCode.NOT_FOUND, 'no such file');
      void reply
        .header(
          'content-type',
          CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
        )
        .header('content-length', info.size)
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'");
      return reply.send(createReadStream(file));
    },
  );
};
