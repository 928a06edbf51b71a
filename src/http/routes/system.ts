import type {} from '@fastify/swagger'; // augments FastifyInstance with swagger()
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Registry } from 'prom-client';
import type { Store } from '../../store/store.js';

/** Liveness with database reachability, Prometheus metrics, the OpenAPI document. */
export const systemRoutes: FastifyPluginAsyncTypebox<{
  store: Store;
  metrics: Registry;
  info: { node: string; version: string; store: string; demo: boolean };
}> = async (app, { store, metrics, info }) => {
  app.get(
    '/health',
    {
      schema: {
        tags: ['system'],
        summary: 'Liveness and database reachability',
        response: {
          200: Type.Object({
            status: Type.Literal('ok'),
            db: Type.Literal('ok'),
            node: Type.String(),
            store: Type.String(),
            version: Type.String(),
            demo: Type.Boolean({ description: 'A demo server against fake peers (npm run demo)' }),
          }),
          503: Type.Object({
            status: Type.Literal('unhealthy'),
            db: Type.String(),
            node: Type.String(),
            store: Type.String(),
            version: Type.String(),
            demo: Type.Boolean(),
          }),
        },
      },
    },
    async (_request, reply) => {
      try {
        await withTimeout(store.ping(), HEALTH_TIMEOUT_MS);
        return { status: 'ok' as const, db: 'ok' as const, ...info };
      } catch (error) {
        return reply.status(503).send({
          status: 'unhealthy' as const,
          db: `unreachable: ${(error as Error).message}`,
          ...info,
        });
      }
    },
  );

  app.get(
    '/metrics',
    { schema: { tags: ['system'], summary: 'Prometheus metrics', hide: false } },
    async (_request, reply) => {
      void reply.header('content-type', metrics.contentType);
      return metrics.metrics();
    },
  );

  app.get(
    '/openapi.json',
    { schema: { tags: ['system'], summary: 'This OpenAPI document' } },
    async () => app.swagger(),
  );
};

/** A database behind a black-holed connection never answers; health must still answer. */
const HEALTH_TIMEOUT_MS = 3_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
