import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { TailorConfig } from './config/config.js';
import { builtInExecutors } from './executors/index.js';
import { createHttpClient } from './executors/http-client.js';
import { buildApp, type App } from './http/app.js';
import { generationPlugin } from './http/routes/generate.js';
import { createLogger } from './logging.js';
import { TaskEvents } from './scheduler/events.js';
import type { ExecutorDefinition } from './scheduler/executor.js';
import { ExecutorRegistry } from './scheduler/registry.js';
import { Scheduler, type SchedulerOptions } from './scheduler/scheduler.js';
import { openStore } from './store/open.js';
import type { Store } from './store/store.js';
import type { HubLimits } from './ws/hub.js';

export interface ServerOptions {
  config: TailorConfig;
  logger?: Logger;
  /** Replaces the built-in executors (tests register their own). */
  executors?: ExecutorDefinition[];
  scheduler?: Partial<Pick<SchedulerOptions, 'heartbeatMs' | 'progressIntervalMs' | 'logFlushMs'>>;
  hubLimits?: Partial<HubLimits>;
  store?: Store;
}

export interface RunningServer {
  app: App;
  scheduler: Scheduler;
  store: Store;
  events: TaskEvents;
  registry: ExecutorRegistry;
  config: TailorConfig;
  url: string;
  close(): Promise<void>;
}

export const VERSION = (
  JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8')) as {
    version: string;
  }
).version;

const CONSOLE_DIR = fileURLToPath(new URL('../web/dist', import.meta.url));

/** The composition root: store → registry → scheduler → HTTP/WebSocket, then listen. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.logLevel);
  // The executor list is checked before the store is opened: a bad option creates no files.
  const registry = new ExecutorRegistry();
  for (const executor of options.executors ?? builtInExecutors(config)) registry.register(executor);
  registry.enableOnly(config.executors);
  const store = options.store ?? (await openStore(config.db));
  await store.migrate();

  const http = createHttpClient({ proxy: config.proxy ?? undefined });

  const events = new TaskEvents();
  const scheduler = new Scheduler({
    store,
    registry,
    events,
    logger,
    http,
    owner: { node: config.nodeId, instance: `${process.pid}-${randomBytes(4).toString('hex')}` },
    dataDir: config.dataDir,
    leaseMs: config.leaseMs,
    graceMs: config.graceMs,
    pollMs: config.pollMs,
    ...options.scheduler,
  });
  let cluster: { close(): Promise<void> } | null = null;
  let app: App | null = null;
  // Stop accepting first, then requeue running tasks, then release the database. Also used to
  // undo a start that failed half-way (port taken, database gone), so nothing is left open.
  const release = async (): Promise<void> => {
    await app?.close();
    await scheduler.shutdown();
    await cluster?.close();
    await store.close();
    await http.close();
  };
  let address: string;
  try {
    // Cluster mode (PostgreSQL): hear other nodes' wake-ups, stops and task events. LISTEN is in
    // place before the lanes open, so nothing committed from here on is missed.
    if (store.kind === 'postgres') {
      const { startClusterBridge } = await import('./cluster/index.js');
      cluster = await startClusterBridge({ store, lanes: scheduler, events, logger });
    }
    await scheduler.start();
    app = await buildApp({
      scheduler,
      store,
      events,
      logger,
      token: config.token,
      allowedOrigins: config.allowedOrigins,
      bodyLimit: config.bodyLimit,
      version: VERSION,
      consoleDir: CONSOLE_DIR,
      hubLimits: options.hubLimits,
      plugins: [generationPlugin({ scheduler, store })],
    });
    address = await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await release().catch((cleanup: unknown) =>
      logger.error({ err: cleanup }, 'cleanup after a failed start failed'),
    );
    throw error;
  }
  logger.info(
    { address, store: store.kind, node: config.nodeId, executors: registry.runnableTypes() },
    'tailor listening',
  );

  let closing: Promise<void> | null = null;
  return {
    app: app as App,
    scheduler,
    store,
    events,
    registry,
    config,
    url: address,
    close() {
      closing ??= release();
      return closing;
    },
  };
}
