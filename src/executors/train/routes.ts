import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorCode, TailorError } from '../../domain/errors.js';
import { redactTask } from '../../domain/redact.js';
import type { Task } from '../../domain/task.js';
import { ok } from '../../http/envelope.js';
import { Priority, envelope, errorResponses } from '../../http/schemas.js';
import type { TaskService } from '../../scheduler/tasks.js';
import { TrainTaskConfigSchema } from './config-schema.js';
import type { TrainResult } from './executor.js';

/** The documented body: the task config's fields plus `priority`. */
const TrainCreateBody = Type.Object(
  { ...TrainTaskConfigSchema.properties, priority: Type.Optional(Priority) },
  { additionalProperties: false },
);

const LoraEntry = Type.Object({
  name: Type.String({ description: 'The output name: <lora:NAME:1> in a prompt' }),
  task_id: Type.String(),
  file: Type.String({ description: 'Relative to the task output folder' }),
  size: Type.Integer(),
  sha256: Type.String(),
  created: Type.Union([Type.String(), Type.Null()]),
  webui_lora: Type.Union([Type.String(), Type.Null()]),
});

/** Completed tasks are read a page at a time; this bounds one listing's work. */
const LIST_PAGE = 100;
const LIST_MAX_PAGES = 100;

function isTrainResult(value: unknown): value is TrainResult {
  if (typeof value !== 'object' || value === null) return false;
  const final = (value as { final?: unknown }).final;
  return typeof final === 'object' && final !== null && 'sha256' in final;
}

export const trainRoutes: FastifyPluginAsyncTypebox<{ tasks: TaskService }> = async (
  app,
  { tasks },
) => {
  app.post(
    '/api/train/create',
    {
      schema: {
        tags: ['train'],
        summary: 'Queue a LoRA training (kohya-ss sd-scripts)',
        description:
          'The config is validated as a generic create of type train would be (a bad field is ' +
          'named /config/<field>). Dataset folders outside the data dir and TAILOR_IMAGE_ROOTS are ' +
          'refused with 403; a folder without images is a 400; a dataset task that does not exist ' +
          'is a 404. On a node without KOHYA_DIR the task is queued for a node that has it.',
        body: TrainCreateBody,
        response: { 200: envelope(Type.Ref('Task')), ...errorResponses },
      },
      // The task service validates the config with paths under /config, as for a generic create;
      // validating here too would name fields without that prefix and apply defaults twice.
      validatorCompiler: () => () => true,
    },
    async (request) => {
      const body: unknown = request.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new TailorError(ErrorCode.VALIDATION, 'the request body must be a JSON object', {
          fields: [{ path: '/config', message: 'must be object' }],
        });
      }
      const { priority, ...config } = body as Record<string, unknown>;
      const task = await tasks.create({
        type: 'train',
        config,
        priority: priority as number | undefined,
      });
      return ok(redactTask(task));
    },
  );

  app.get(
    '/api/train/loras',
    {
      schema: {
        tags: ['train'],
        summary: 'LoRAs trained by completed train tasks, newest first',
        response: {
          200: envelope(Type.Object({ loras: Type.Array(LoraEntry) })),
          ...errorResponses,
        },
      },
    },
    async () => {
      const loras = [];
      for (let page = 1; page <= LIST_MAX_PAGES; page++) {
        const { tasks: batch } = await tasks.list({
          page,
          pageSize: LIST_PAGE,
          status: 'completed',
          type: 'train',
        });
        for (const task of batch) {
          const entry = loraOf(task);
          if (entry) loras.push(entry);
        }
        if (batch.length < LIST_PAGE) break;
      }
      return ok({ loras });
    },
  );
};

function loraOf(task: Task) {
  if (!isTrainResult(task.result) || !task.result.final) return null;
  const { final } = task.result;
  return {
    name: task.result.output_name,
    task_id: task.id,
    file: final.file,
    size: final.size,
    sha256: final.sha256,
    created: task.completed_at,
    webui_lora: task.result.webui_lora,
  };
}
