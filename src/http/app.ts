import { existsSync } from 'node:fs';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyWebsocket from '@fastify/websocket';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
} from 'fastify';
import type { Logger } from 'pino';
import { ErrorCode } from '../domain/errors.js';
import type { TaskEvents } from '../scheduler/events.js';
import type { TaskService } from '../scheduler/tasks.js';
import type { Store } from '../store/store.js';
import { DEFAULT_HUB_LIMITS, WsHub, type HubLimits } from '../ws/hub.js';
import { installJsonBodyParser } from './json-body.js';
import { errorBody, installErrorHandling } from './errors.js';
import { installBodyDepthLimit } from './limits.js';
import { createMetrics } from './metrics.js';
import { fileRoutes } from './routes/files.js';
import { galleryRoutes } from './routes/gallery.js';
import { systemRoutes } from './routes/system.js';
import { taskRoutes } from './routes/tasks.js';
import { ErrorEnvelope, Task, TaskLog } from './schemas.js';
import { installSecurity, isAllowedOrigin } from './security.js';

export interface AppOptions {
  tasks: TaskService;
  /** This node's stable name, for `/health`. */
  node: string;
  store: Store;
  events: TaskEvents;
  logger: Logger;
  token: string | null;
  allowedOrigins: readonly string[];
  bodyLimit: number;
  version: string;
  /** Labels the server as a demo against fake peers (`npm run demo`) in `/health` and the console. */
  demo?: boolean;
  /** Built web console (web/dist); served at / when present. */
  consoleDir?: string | undefined;
  hubLimits?: Partial<HubLimits>;
  /** Routes of executors and other features (e.g. generation configs), registered last. */
  plugins?: ((app: FastifyInstance) => Promise<void>)[];
}

export type App = FastifyInstance & { hub: WsHub };

const WS_MAX_MESSAGE_BYTES = 64 * 1024;

export async function buildApp(options: AppOptions): Promise<App> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // Per-request info lines would dominate the log at task rates; metrics cover requests.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit,
    // Never coerce (`{"task_id": 42}` is a 400), never strip unknown fields silently.
    ajv: {
      customOptions: {
        coerceTypes: false,
        removeAdditional: false,
        useDefaults: true,
        allErrors: true,
      },
    },
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    // A client holding a connection open (a rejected upgrade, a slow reader) must not block shutdown.
    forceCloseConnections: true,
    // Fastify answers a URL it cannot decode (`/api/files/x/%c0%ae`) before any route or error
    // handler runs; without this its own non-envelope body would leave the server.
    frameworkErrors: (error, _request, rawReply) => {
      const bad = error.code === 'FST_ERR_BAD_URL';
      const reply = rawReply as unknown as FastifyReply;
      void reply
        .status(bad ? 400 : 500)
        .send(
          bad
            ? errorBody(ErrorCode.VALIDATION, 'the URL is not validly percent-encoded')
            : errorBody(ErrorCode.INTERNAL, 'internal error'),
        );
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // JSON is the only body type: a cross-site HTML form (urlencoded, multipart, text/plain) gets 415.
  app.removeContentTypeParser('text/plain');
  installJsonBodyParser(app);

  installErrorHandling(app);
  installBodyDepthLimit(app);
  // Before the security hooks: the plugin's own onRequest hook marks upgrade requests so that a
  // refused upgrade (401) has its raw socket destroyed; after them it would leak and hang close().
  await app.register(fastifyWebsocket, {
    options: { maxPayload: WS_MAX_MESSAGE_BYTES },
    // The default closes clients politely and can wait out ws's 30 s close handshake for a client
    // that is half-way gone; shutdown terminates them instead.
    preClose(done) {
      for (const client of this.websocketServer.clients) client.terminate();
      this.websocketServer.close();
      done();
    },
  });
  installSecurity(app, { token: options.token, allowedOrigins: options.allowedOrigins });

  const hub = new WsHub(options.events, (id) => options.store.getTask(id), options.logger, {
    ...DEFAULT_HUB_LIMITS,
    ...options.hubLimits,
  });
  const metrics = createMetrics(options.events, { wsClients: () => hub.size });
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpSeconds.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unknown',
        code: reply.statusCode,
      },
      reply.elapsedTime / 1000,
    );
  });
  app.addHook('onClose', async () => {
    hub.close();
    metrics.close();
  });

  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'PixivTailor task manager',
        version: options.version,
        description:
          'Durable per-type task lanes for AI-art jobs. Every JSON response uses the envelope ' +
          '`{"status":{"code":0,"message":"success"},"data":…}`; errors carry a non-zero code whose ' +
          'first three digits are the HTTP status.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: options.token ? [{ bearer: [] }] : [],
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`),
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.addSchema(Task);
  app.addSchema(TaskLog);
  app.addSchema(ErrorEnvelope);

  app.get(
    '/ws',
    {
      websocket: true,
      schema: { tags: ['websocket'], summary: 'Live task events (see README "WebSocket")' },
      preValidation: async (request, reply) => {
        // Cross-site WebSocket hijacking: a page on another origin must not read our events.
        if (!isAllowedOrigin(request, options.allowedOrigins)) {
          return reply
            .status(403)
            .send(errorBody(ErrorCode.UNAUTHORIZED, 'websocket origin not allowed'));
        }
      },
    },
    (socket) => hub.attach(socket),
  );

  await app.register(taskRoutes, { tasks: options.tasks });
  await app.register(fileRoutes, {
    outputDirOf: (id: string) => options.tasks.outputDirOf(id),
  });
  await app.register(galleryRoutes, { tasks: options.tasks });
  await app.register(systemRoutes, {
    store: options.store,
    metrics: metrics.registry,
    info: {
      node: options.node,
      version: options.version,
      store: options.store.kind,
      demo: options.demo ?? false,
    },
  });
  for (const plugin of options.plugins ?? []) await plugin(app);

  if (options.consoleDir && existsSync(options.consoleDir)) {
    await app.register(fastifyStatic, {
      root: options.consoleDir,
      prefix: '/',
      index: ['index.html'],
      wildcard: false,
    });
  }

  return Object.assign(app as unknown as FastifyInstance, { hub });
}
