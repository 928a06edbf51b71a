import { readdir } from 'node:fs/promises';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { taskNotFound } from '../../domain/errors.js';
import { redactTask } from '../../domain/redact.js';
import type { Task } from '../../domain/task.js';
import { ok } from '../../http/envelope.js';
import { TaskId, envelope, errorResponses } from '../../http/schemas.js';
import type { TaskService } from '../../scheduler/tasks.js';
import { confineUserPath, type PathRoots } from '../paths.js';
import { CrawlCreateBody } from './schema.js';
import { readSidecar, sidecarJson } from './sidecar.js';

const WorksQuery = Type.Object(
  {
    page: Type.Optional(Type.Integer({ minimum: 1, default: 1 })),
    page_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  },
  { additionalProperties: false },
);

const WorksData = Type.Object({
  output_dir: Type.String(),
  works: Type.Array(Type.Record(Type.String(), Type.Unknown()), {
    description: 'Sidecars ({id}.json), newest artwork first',
  }),
  pagination: Type.Object({
    page: Type.Integer(),
    page_size: Type.Integer(),
    total: Type.Integer(),
  }),
});

/** Where a crawl task writes: its `output_dir` (confined again: a symlink may have moved) or its own folder. */
async function outputDirOfCrawl(task: Task, tasks: TaskService, roots: PathRoots): Promise<string> {
  const named = task.config.output_dir;
  return typeof named === 'string'
    ? confineUserPath(named, roots, 'output_dir')
    : tasks.outputDirOf(task.id);
}

export const crawlRoutes: FastifyPluginAsyncTypebox<{
  tasks: TaskService;
  roots: PathRoots;
}> = async (app, { tasks, roots }) => {
  app.post(
    '/api/crawl/create',
    {
      schema: {
        tags: ['crawl'],
        summary: 'Queue a Pixiv crawl',
        description:
          'crawl_type tag (query), user (user_id), illust (illust_id) or ranking (ranking_mode, date). ' +
          'The original front-end’s names are accepted: `type` for crawl_type, ids as numbers, tags ' +
          'separated by commas. output_dir outside the data dir and TAILOR_IMAGE_ROOTS is a 403.',
        body: CrawlCreateBody,
        response: { 200: envelope(Type.Ref('Task')), 403: Type.Ref('Error'), ...errorResponses },
      },
    },
    async (request) => {
      const { priority, ...config } = request.body;
      const task = await tasks.create({ type: 'crawl', config, priority });
      return ok(redactTask(task));
    },
  );

  app.get(
    '/api/crawl/:task_id/works',
    {
      schema: {
        tags: ['crawl'],
        summary: 'The artworks in a crawl task’s output folder (their sidecars)',
        params: Type.Object({ task_id: TaskId }),
        querystring: WorksQuery,
        response: { 200: envelope(WorksData), 403: Type.Ref('Error'), ...errorResponses },
      },
    },
    async (request) => {
      const { task_id: taskId } = request.params;
      const page = request.query.page ?? 1;
      const pageSize = request.query.page_size ?? 100;
      const task = await tasks.get(taskId);
      if (!task || task.type !== 'crawl') throw taskNotFound(taskId);
      const dir = await outputDirOfCrawl(task, tasks, roots);
      const names = await readdir(dir).catch(() => [] as string[]);
      const ids = names
        .map((name) => /^([1-9][0-9]*)\.json$/.exec(name)?.[1])
        .filter((id): id is string => id !== undefined)
        .sort((a, b) => (a.length !== b.length ? b.length - a.length : b < a ? -1 : 1));
      const works = [];
      for (const id of ids.slice((page - 1) * pageSize, page * pageSize)) {
        const sidecar = await readSidecar(dir, id);
        if (sidecar) works.push(sidecarJson(sidecar));
      }
      return ok({
        output_dir: dir,
        works,
        pagination: { page, page_size: pageSize, total: ids.length },
      });
    },
  );
};
