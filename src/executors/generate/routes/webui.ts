import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorCode, TailorError } from '../../../domain/errors.js';
import { TASK_ID_PATTERN } from '../../../domain/task.js';
import { ok } from '../../../http/envelope.js';
import { envelope, errorResponses } from '../../../http/schemas.js';
import type { CatalogCache } from '../catalog.js';
import type { Previews } from '../previews.js';
import { WebuiError, type WebuiClient } from '../webui-client.js';

const NameList = Type.Union([Type.Array(Type.String()), Type.Null()], {
  description: 'null when the WebUI does not serve this list',
});

/** What the WebUI offers, for pickers; and the live preview of a generation running here. */
export const webuiRoutes: FastifyPluginAsyncTypebox<{
  client: WebuiClient;
  catalog: CatalogCache;
  previews: Previews;
  timeoutMs: number;
}> = async (app, { client, catalog, previews, timeoutMs }) => {
  app.get(
    '/api/generate/options',
    {
      schema: {
        tags: ['generate'],
        summary: 'Samplers, checkpoints, VAEs, upscalers and LoRAs of the WebUI',
        description: 'Cached for 30 s. 503 naming the URL when the WebUI is unreachable.',
        response: {
          200: envelope(
            Type.Object({
              url: Type.String(),
              samplers: NameList,
              models: NameList,
              vaes: NameList,
              upscalers: NameList,
              loras: NameList,
            }),
          ),
          ...errorResponses,
        },
      },
    },
    async () => {
      try {
        return ok({ url: client.url, ...(await catalog.get(client, timeoutMs)) });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new TailorError(
          ErrorCode.DEPENDENCY_UNAVAILABLE,
          error instanceof WebuiError ? reason : `SD WebUI unreachable at ${client.url}: ${reason}`,
          { url: client.url },
        );
      }
    },
  );

  app.get(
    '/api/generate/:task_id/preview',
    {
      schema: {
        tags: ['generate'],
        summary: 'The latest preview image of a generation running on this node (PNG)',
        description:
          "Polled from the WebUI at most once a second while the task's request runs; 404 before " +
          'the first preview, after the request ended, or on a node not running the task.',
        params: Type.Object(
          { task_id: Type.String({ pattern: TASK_ID_PATTERN }) },
          { additionalProperties: false },
        ),
        response: { ...errorResponses },
      },
    },
    async (request, reply) => {
      const png = previews.get(request.params.task_id);
      if (!png) {
        throw new TailorError(
          ErrorCode.RESOURCE_NOT_FOUND,
          `no preview of task ${request.params.task_id} on this node`,
          { task_id: request.params.task_id },
        );
      }
      return reply.header('cache-control', 'no-store').type('image/png').send(png);
    },
  );
};
