import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { redactTask } from '../../domain/redact.js';
import { TASK_ID_PATTERN } from '../../domain/task.js';
import { generateTaskConfigFrom } from '../../executors/generate/index.js';
import type { Scheduler } from '../../scheduler/scheduler.js';
import type { Store } from '../../store/store.js';
import { ok } from '../envelope.js';
import { Priority, envelope, errorResponses } from '../schemas.js';
import { configNotFound, configRoutes } from './configs.js';

const GenerateWithConfigBody = Type.Object(
  {
    config_id: Type.String({ pattern: TASK_ID_PATTERN, description: 'A stored generation config' }),
    override: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: 'Fields that replace the stored ones for this task only (loras as a whole)',
      }),
    ),
    priority: Type.Optional(Priority),
  },
  { additionalProperties: false },
);

/** The seed's typed shortcut for a `generate` task made from a stored config. */
export const generateRoutes: FastifyPluginAsyncTypebox<{
  scheduler: Scheduler;
  store: Store;
}> = async (app, { scheduler, store }) => {
  app.post(
    '/api/generate-with-config',
    {
      schema: {
        tags: ['generate'],
        summary: 'Queue a generate task from a stored config',
        description:
          'The override is merged over the stored fields and validated again (a bad field is named ' +
          '/override/<field>). 503 with the WebUI URL when SD WebUI is unreachable; nothing is queued then.',
        body: GenerateWithConfigBody,
        response: { 200: envelope(Type.Ref('Task')), ...errorResponses },
      },
    },
    async (request) => {
      const { config_id: configId, override, priority } = request.body;
      const stored = await store.getConfig(configId);
      if (!stored) throw configNotFound(configId);
      const task = await scheduler.create({
        type: 'generate',
        config: generateTaskConfigFrom(stored, override),
        priority,
      });
      return ok(redactTask(task));
    },
  );
};

/** Generation configs and generate-with-config, as one entry of `AppOptions.plugins`. */
export function generationPlugin(deps: {
  scheduler: Scheduler;
  store: Store;
}): (app: FastifyInstance) => Promise<void> {
  return async (app) => {
    await app.register(configRoutes, { store: deps.store });
    await app.register(generateRoutes, deps);
  };
}
