import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import {
  ConfigError,
  optionalStringSetting,
  stringSetting,
  type SettingSpec,
  type TailorConfig,
} from './config/config.js';
import { builtInModules } from './executors/index.js';
import { createHttpClient } from './executors/http-client.js';
import type { ExecutorModule, ModuleContext } from './executors/module.js';
import { buildApp, type App } from './http/app.js';
import { createLogger } from './logging.js';
import { TaskEvents } from './scheduler/events.js';
import type { ExecutorDefinition, PublicSetting } from './scheduler/executor.js';
import { LaneEngine, type LaneEngineOptions } from './scheduler/lanes.js';
import { ExecutorRegistry } from './scheduler/registry.js';
import { TaskService } from './scheduler/tasks.js';
import { openStore } from './store/open.js';
import type { Store } from './store/store.js';
import type { HubLimits } from './ws/hub.js';

export interface ServerOptions {
  config: TailorConfig;
  logger?: Logger;
  /** Replaces the built-in executor modules (tests bring their own). */
  modules?: readonly ExecutorModule[];
  /**
   * Bare executors registered beside the modules (tests). Given without `modules`, they replace
   * the built-in modules.
   */
  executors?: ExecutorDefinition[];
  scheduler?: Partial<Pick<LaneEngineOptions, 'heartbeatMs' | 'progressIntervalMs' | 'logFlushMs'>>;
  hubLimits?: Partial<HubLimits>;
  store?: Store;
  /** A demo against fake peers (`npm run demo`): said in `/health`, the console and the log. */
  demo?: boolean;
}

export interface RunningServer {
  app: App;
  /** The lane engine: claims, runs and finishes tasks. */
  scheduler: LaneEngine;
  /** User actions on tasks (create, stop, cancel, delete…). */
  tasks: TaskService;
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

/**
 * Every module's settings as rows of the settings table, for `loadConfig` and `tailor serve
 * --help`. Two modules may declare one key (generate and tag both read `SD_WEBUI_URL`) only with
 * the same env var; it is one setting then.
 */
export function moduleSettings(modules: readonly ExecutorModule[]): SettingSpec[] {
  const specs = new Map<string, SettingSpec>();
  for (const module of modules) {
    for (const [key, spec] of Object.entries(module.settings)) {
      const known = specs.get(key);
      if (known) {
        if (known.env !== spec.env)
          throw new ConfigError(`setting ${key} is declared twice with different env vars`);
        continue;
      }
      const common = { key, env: spec.env, arg: '<value>', description: spec.description };
      specs.set(
        key,
        spec.default === undefined
          ? optionalStringSetting({ ...common, ...(spec.secret ? { secret: true } : {}) })
          : stringSetting({
              ...common,
              fallback: spec.default,
              ...(spec.secret ? { secret: true } : {}),
            }),
      );
    }
  }
  return [...specs.values()];
}

/**
 * Checks that need no database, so a bad option fails before the data dir or the database file
 * is created: the task types named by `executors` exist, and no two modules claim one setting.
 */
export function checkModules(
  config: Pick<TailorConfig, 'executors'>,
  modules: readonly ExecutorModule[],
  executors: readonly ExecutorDefinition[] = [],
): void {
  const types = [...modules.map((m) => m.type), ...executors.map((e) => e.type)];
  const unknown = (config.executors ?? []).filter((type) => !types.includes(type));
  if (unknown.length) {
    throw new ConfigError(
      `executors (--executors, TAILOR_EXECUTORS): no executor for ${unknown.join(', ')}; ` +
        `known task types: ${types.join(', ')}`,
    );
  }
  moduleSettings(modules);
}

/** The composition root: store → registry → lanes → modules → HTTP/WebSocket, then listen. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.logLevel);
  const modules = options.modules ?? (options.executors ? [] : builtInModules);
  checkModules(config, modules, options.executors);

  const store = options.store ?? (await openStore(config.db));
  const http = createHttpClient({ proxy: config.proxy ?? undefined });
  const registry = new ExecutorRegistry();
  const events = new TaskEvents();
  const scheduler = new LaneEngine({
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
  const tasks = new TaskService({
    store,
    lanes: scheduler,
    registry,
    events,
    logger,
    http,
    dataDir: config.dataDir,
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
    await store.migrate();
    const plugins: ((app: FastifyInstance) => Promise<void>)[] = [];
    const unavailable = new Set<string>();
    for (const module of modules) {
      const { ctx, reason } = await moduleContext(module, { config, store, http, logger, tasks });
      if (reason !== null) unavailable.add(module.type);
      registry.register({
        type: module.type,
        description: reason
          ? `${module.description} (not run on this node: ${reason})`
          : module.description,
        schema: module.schema,
        settings: publicSettings(module, ctx.settings),
        ...module.executor(ctx),
      });
      const routes = module.routes(ctx);
      if (routes) plugins.push(routes);
    }
    for (const executor of options.executors ?? []) registry.register(executor);
    // A type this node cannot run (its settings are missing) is left to the nodes that can.
    const enabled = config.executors ?? (unavailable.size ? registry.types() : null);
    registry.enableOnly(enabled && enabled.filter((type) => !unavailable.has(type)));

    // Cluster mode (PostgreSQL): hear other nodes' wake-ups, stops and task events. LISTEN is in
    // place before the lanes open, so nothing committed from here on is missed.
    if (store.kind === 'postgres') {
      const { startClusterBridge } = await import('./cluster/index.js');
      cluster = await startClusterBridge({ store, lanes: scheduler, events, logger });
    }
    await scheduler.start();
    app = await buildApp({
      tasks,
      node: config.nodeId,
      store,
      events,
      logger,
      token: config.token,
      allowedOrigins: config.allowedOrigins,
      bodyLimit: config.bodyLimit,
      version: VERSION,
      consoleDir: CONSOLE_DIR,
      hubLimits: options.hubLimits,
      plugins,
      demo: options.demo ?? false,
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
    tasks,
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

/**
 * A module's settings, storage (migrated) and the services its parts are built from, and whether
 * this node can run it (its `available` check, asked once).
 */
async function moduleContext(
  module: ExecutorModule,
  deps: {
    config: TailorConfig;
    store: Store;
    http: ModuleContext<unknown, unknown>['http'];
    logger: Logger;
    tasks: TaskService;
  },
): Promise<{
  ctx: ModuleContext<Readonly<Record<string, string | null>>, unknown>;
  /** Why this node cannot run the type (its `available` check), or null. */
  reason: string | null;
}> {
  const { config } = deps;
  const settings = Object.fromEntries(
    Object.entries(module.settings).map(([key, spec]) => [
      key,
      settingValue(config.extra[key]) ?? spec.default ?? null,
    ]),
  );
  let storage: unknown = undefined;
  if (module.storage) {
    const sql = deps.store.moduleSql();
    await sql.migrate(module.type, module.storage.migrations[sql.dialect]);
    storage = module.storage.open(sql);
  }
  const reason = module.available?.(settings) ?? null;
  const ctx = {
    settings,
    storage,
    dataDir: config.dataDir,
    modelsDir: config.modelsDir,
    imageRoots: config.imageRoots,
    outputsDir: deps.tasks.outputsDir,
    http: deps.http,
    logger: deps.logger.child({ module: module.type }),
    runsHere:
      (config.executors === null || config.executors.includes(module.type)) && reason === null,
    tasks: deps.tasks,
  };
  return { ctx, reason };
}

/** What `/api/task-types` may show of a module's settings: never a secret's value. */
function publicSettings(
  module: ExecutorModule,
  values: Readonly<Record<string, string | null>>,
): PublicSetting[] {
  return Object.entries(module.settings).map(([key, spec]) => {
    const value = values[key] ?? null;
    return {
      key,
      env: spec.env,
      description: spec.description,
      secret: spec.secret === true,
      set: value !== null,
      value: spec.secret ? null : value,
    };
  });
}

/** A module setting as `loadConfig` resolved it (a string), or null when it is not set. */
function settingValue(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
