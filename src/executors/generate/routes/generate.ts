import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { redactTask } from '../../../domain/redact.js';
import { TASK_ID_PATTERN } from '../../../domain/task.js';
import { ok } from '../../../http/envelope.js';
import { Priority, envelope, errorResponses } from '../../../http/schemas.js';
import type { TaskService } from '../../../scheduler/tasks.js';

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
export const generateRoutes: FastifyPluginAsyncTypebox<{ tasks: TaskService }> = async (
  app,
  { tasks },
) => {
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
      // The same path as a generic create of {config_id, override}: the module's prepare step.
      const task = await tasks.create({
        type: 'generate',
        config: { config_id: configId, ...(override === undefined ? {} : { override }) },
        priority,
      });
      return ok(redactTask(task));
    },
  );
};
