import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { redactTask } from '../../domain/redact.js';
import { ok } from '../../http/envelope.js';
import { Priority, envelope, errorResponses } from '../../http/schemas.js';
import type { TaskService } from '../../scheduler/tasks.js';
import { analyzeImage } from './analyze.js';
import type { TagServices } from './executor.js';
import { ANALYZERS, TagConfigSchema, selectionProperties } from './schema.js';

const AliasTags = (description: string) =>
  Type.Optional(
    Type.Union(
      [
        Type.Array(Type.String({ maxLength: 200 }), { maxItems: 500 }),
        Type.String({ maxLength: 20_000 }),
      ],
      { description },
    ),
  );

/**
 * `/api/tag/create` takes the config fields plus the original front-end's spellings; the module's
 * `prepare` turns those into the config's own, and the task service validates the result strictly.
 */
const TagCreateBody = Type.Object(
  {
    ...TagConfigSchema.properties,
    analyzer: Type.Optional(
      Type.Enum([...ANALYZERS, 'wd14tagger'], {
        description: 'wd14 (local ONNX model; "wd14tagger" is the original name) or webui',
      }),
    ),
    skip_tags: AliasTags('Original name of exclude_tags (a list or a comma-separated string)'),
    extend_tags: AliasTags('Original name of prepend_tags (a list or a comma-separated string)'),
    priority: Type.Optional(Priority),
  },
  { additionalProperties: false },
);

const ScoredTagSchema = Type.Object({
  name: Type.String(),
  score: Type.Number(),
  category: Type.Enum(['general', 'character']),
});

const AnalyzeBody = Type.Object(
  {
    image: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'The image as base64 (a data: URL prefix is allowed)',
      }),
    ),
    path: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 4096,
        description:
          'An image file on the server: relative to the data dir, or under TAILOR_IMAGE_ROOTS',
      }),
    ),
    analyzer: Type.Optional(Type.Enum([...ANALYZERS, 'wd14tagger'], { default: 'wd14' })),
    ...selectionProperties,
  },
  { additionalProperties: false },
);

const AnalyzeData = Type.Object({
  caption: Type.String(),
  tags: Type.Array(ScoredTagSchema),
  rating: Type.Record(Type.String(), Type.Number()),
  model: Type.String(),
  analyzer: Type.String(),
});

const ModelsData = Type.Object({
  models_dir: Type.String(),
  default: Type.Union([Type.String(), Type.Null()]),
  models: Type.Array(
    Type.Object({
      name: Type.String(),
      tags: Type.Union([Type.Integer(), Type.Null()]),
      input_size: Type.Union([Type.Integer(), Type.Null()]),
      batch: Type.Union([Type.Integer(), Type.Literal('dynamic'), Type.Null()]),
      error: Type.Optional(Type.String()),
    }),
  ),
});

/** Up to 32 MB: a full-size Pixiv page in base64. */
const ANALYZE_BODY_LIMIT = 32 * 1024 * 1024;

export const tagRoutes: FastifyPluginAsyncTypebox<{
  tasks: TaskService;
  services: TagServices;
}> = async (app, { tasks, services }) => {
  app.post(
    '/api/tag/create',
    {
      schema: {
        tags: ['tag'],
        summary: 'Queue a tag task (WD14 captions for a training set)',
        description:
          'Input folders are confined to the data dir and TAILOR_IMAGE_ROOTS (403, nothing queued); ' +
          'input_task_id tags the output folder of an earlier task (404 if unknown); 400 lists the ' +
          'installed models when none is named and several exist.',
        body: TagCreateBody,
        response: { 200: envelope(Type.Ref('Task')), ...errorResponses },
      },
    },
    async (request) => {
      const { priority, ...config } = request.body;
      const task = await tasks.create({ type: 'tag', config, priority });
      return ok(redactTask(task));
    },
  );

  app.get(
    '/api/tag/models',
    {
      schema: {
        tags: ['tag'],
        summary: 'Installed WD14 models',
        description: 'Folders under <models>/wd14 with model.onnx and selected_tags.csv.',
        response: { 200: envelope(ModelsData), ...errorResponses },
      },
    },
    async () => {
      const names = await services.models.installed();
      const models = [];
      for (const name of names) {
        try {
          const lease = await services.models.acquire(name);
          const { model } = lease;
          lease.release();
          models.push({
            name,
            tags: model.labels.filter((l) => l.kind !== 'rating').length,
            input_size: model.size,
            batch: model.fixedBatch ?? ('dynamic' as const),
          });
        } catch (error) {
          models.push({
            name,
            tags: null,
            input_size: null,
            batch: null,
            error: error instanceof Error ? error.message : String(error),
          });
        }
      }
      return ok({ models_dir: services.models.modelsDir, default: services.defaultModel, models });
    },
  );

  app.post(
    '/api/tag/analyze',
    {
      bodyLimit: ANALYZE_BODY_LIMIT,
      schema: {
        tags: ['tag'],
        summary: 'Tag one image now',
        description:
          'Runs the tagger on one image (base64, or a path confined like input_dir) and answers with ' +
          'the caption a task would write, the tags above threshold and the rating scores.',
        body: AnalyzeBody,
        response: { 200: envelope(AnalyzeData), ...errorResponses },
      },
    },
    async (request) => {
      const body = request.body;
      const controller = new AbortController();
      // A client that hangs up stops a WebUI request made on its behalf.
      const hangUp = (): void => controller.abort();
      const socket = request.raw.socket;
      socket.once('close', hangUp);
      const result = await analyzeImage(
        {
          image: body.image,
          path: body.path,
          analyzer: body.analyzer === 'webui' ? 'webui' : 'wd14',
          model: body.model,
          threshold: body.threshold ?? 0.35,
          character_threshold: body.character_threshold ?? 0.85,
          mcut: body.mcut ?? false,
          exclude_tags: body.exclude_tags,
          prepend_tags: body.prepend_tags,
          tag_order: body.tag_order === 'alpha' ? 'alpha' : 'score',
          character_first: body.character_first ?? true,
          replace_underscores: body.replace_underscores ?? true,
          escape_brackets: body.escape_brackets ?? false,
          include_rating: body.include_rating ?? false,
        },
        services,
        controller.signal,
      ).finally(() => socket.off('close', hangUp));
      return ok(result);
    },
  );
};
