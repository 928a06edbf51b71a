/**
 * The executor module contract: everything one task type brings, declared in its own folder.
 *
 *   export const crawlModule = defineExecutorModule({
 *     type: 'crawl',
 *     description: 'Download Pixiv artworks with their metadata',
 *     schema: CrawlConfigSchema,                // validates `config` at creation (400 naming the field)
 *     settings: { pixivCookie: { env: 'PIXIV_COOKIE', secret: true, description: '…' } },
 *     storage: { migrations: { sqlite: [...], postgres: [...] }, open: (sql) => new CrawlStore(sql) },
 *     available: (settings) => null,            // or why this node cannot run the type
 *     executor: (ctx) => ({ prepare, precheck, run }), // ctx: settings, storage, paths, http, tasks
 *     routes: (ctx) => async (app) => { app.post('/api/crawl/create', …) },
 *     cli: (program, cli) => { program.command('crawl') … },
 *   });
 *
 * The shell (server, CLI, console) discovers modules from the list in `./index.ts`: adding a task
 * type is its folder plus one line there. The console page of a module is
 * `<module folder>/console/index.tsx`, found by the console's build without any registration.
 *
 * Nothing in `domain`, `store`, `scheduler`, `http` or `ws` may import a module (lint enforces
 * it): modules depend on the core, never the reverse.
 */
import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { TSchema } from 'typebox';
import type { TailorClient, Task } from '../client/index.js';
import type { JsonObject, JsonValue } from '../domain/task.js';
import type { ExecutorContext, ExecutorDeps, HttpClient } from '../scheduler/executor.js';
import type { TaskService } from '../scheduler/tasks.js';
import type { ModuleMigration, ModuleSql } from '../store/store.js';

/**
 * A configuration key a module declares (its WebUI URL, its cookie…). It is read like the core
 * keys — flag (the key in kebab case), then env var, then config-file key, then default — and
 * listed with them in `tailor serve --help` and the README.
 */
export interface SettingSpec {
  /** Environment variable, e.g. `SD_WEBUI_URL`. */
  env: string;
  /** Used when no flag, env var or config-file key gives a value; absent means "not set" (null). */
  default?: string;
  description: string;
  /** Never shown: not in `/api/task-types`, logs, errors, `--help` defaults or events. */
  secret?: boolean;
}

/** Settings by their camelCase key (the config-file key). */
export type SettingSpecs = Readonly<Record<string, SettingSpec>>;

/** The resolved values: a setting with a default is always a string, one without may be null. */
export type SettingValues<S extends SettingSpecs> = {
  readonly [K in keyof S]: S[K] extends { default: string } ? string : string | null;
};

/** A module's own tables: numbered migrations per dialect, then a typed API over plain SQL. */
export interface StorageSpec<Storage> {
  migrations: { sqlite: readonly ModuleMigration[]; postgres: readonly ModuleMigration[] };
  open(sql: ModuleSql): Storage;
}

/** What every part of a module is built from on a server. */
export interface ModuleContext<Settings, Storage> {
  settings: Settings;
  /** The module's storage (undefined when it declares none). */
  storage: Storage;
  /** `TAILOR_DATA_DIR`, resolved. */
  dataDir: string;
  /** `TAILOR_MODELS_DIR` (default `<data dir>/models`). */
  modelsDir: string;
  /**
   * Folders a user may name as input or output (`TAILOR_IMAGE_ROOTS`, default the data dir),
   * resolved through symlinks. Relative user paths resolve against the data dir.
   */
  imageRoots: readonly string[];
  /** The task's own output folder is `<outputsDir>/<task id>`. */
  outputsDir: string;
  http: HttpClient;
  logger: Logger;
  /** True when this node runs the type (it may only validate and queue it for other nodes). */
  runsHere: boolean;
  /** Create, find and list tasks: what routes and result views need. */
  tasks: TaskService;
}

/** What the scheduler drives: `precheck` at creation (on nodes that run the type), `run` per attempt. */
export interface ModuleExecutor<Config extends JsonObject> {
  /** Turns what a client sent into the config to validate (see `ExecutorDefinition.prepare`). */
  prepare?: (input: unknown) => Promise<unknown>;
  precheck?: (config: Config, deps: ExecutorDeps) => Promise<void>;
  run: (ctx: ExecutorContext<Config>) => Promise<JsonValue | void>;
}

/** How a followed task ended: its terminal status, or deleted while followed. */
export type TaskEnd = 'completed' | 'failed' | 'cancelled' | 'deleted';

/** The CLI's services for a module's subcommands. */
export interface CliContext {
  /** A client that finds the server as `tailor serve` would (flags, env, config file). */
  client(): TailorClient;
  /** Whether `--json` was given. */
  json(): boolean;
  /** Print a created or changed task (JSON with `--json`). */
  printTask(task: Task): void;
  /** Follow a task until it ends, with a progress bar; resolves to how it ended. */
  watch(taskId: string): Promise<TaskEnd>;
  /** The process exit code for how a task ended (0 completed, 1 failed or deleted, 3 cancelled). */
  exitCodeOf(end: TaskEnd): number;
}

export interface ExecutorModuleSpec<
  Config extends JsonObject,
  Settings extends SettingSpecs,
  Storage,
> {
  type: string;
  /** One line for `/api/task-types`, the console and `tailor types`. */
  description: string;
  /** JSON Schema of the task config (TypeBox); served by `/api/task-types` for generated forms. */
  schema: TSchema;
  settings?: Settings;
  /**
   * Why this node cannot run the type with these settings (e.g. "KOHYA_DIR is not set"), or null.
   * Such a node still validates and queues the type for nodes that can run it.
   */
  available?(settings: SettingValues<Settings>): string | null;
  storage?: StorageSpec<Storage>;
  executor(ctx: ModuleContext<SettingValues<Settings>, Storage>): ModuleExecutor<Config>;
  /** Type-specific endpoints, registered on every node (a node that does not run the type queues). */
  routes?(
    ctx: ModuleContext<SettingValues<Settings>, Storage>,
  ): (app: FastifyInstance) => Promise<void>;
  /** Extra subcommands of `tailor`. */
  cli?(program: Command, cli: CliContext): void;
}

/**
 * A module with its types erased at the boundary, so modules of different configs sit in one
 * list. The erasure is sound: the registry validates every config against `schema` (defaults
 * applied) before `run` or `precheck` sees it, and settings/storage are built from the module's
 * own declarations.
 */
export interface ExecutorModule {
  readonly type: string;
  readonly description: string;
  readonly schema: TSchema;
  readonly settings: SettingSpecs;
  readonly storage: StorageSpec<unknown> | undefined;
  available?(settings: Readonly<Record<string, string | null>>): string | null;
  executor(
    ctx: ModuleContext<Readonly<Record<string, string | null>>, unknown>,
  ): ModuleExecutor<JsonObject>;
  routes(
    ctx: ModuleContext<Readonly<Record<string, string | null>>, unknown>,
  ): ((app: FastifyInstance) => Promise<void>) | undefined;
  cli(program: Command, cli: CliContext): void;
}

export function defineExecutorModule<
  Config extends JsonObject,
  Settings extends SettingSpecs = Record<never, SettingSpec>,
  Storage = undefined,
>(spec: ExecutorModuleSpec<Config, Settings, Storage>): ExecutorModule {
  // The one place types are erased; see ExecutorModule for why it is sound.
  type Erased = ModuleContext<SettingValues<Settings>, Storage>;
  const narrow = (ctx: ModuleContext<Readonly<Record<string, string | null>>, unknown>): Erased =>
    ctx as Erased;
  return {
    type: spec.type,
    description: spec.description,
    schema: spec.schema,
    settings: spec.settings ?? {},
    storage: spec.storage as StorageSpec<unknown> | undefined,
    ...(spec.available
      ? { available: (settings) => spec.available!(settings as SettingValues<Settings>) }
      : {}),
    executor: (ctx) => {
      const executor = spec.executor(narrow(ctx));
      return {
        ...(executor.prepare ? { prepare: executor.prepare } : {}),
        ...(executor.precheck
          ? {
              precheck: (config: JsonObject, deps: ExecutorDeps) =>
                executor.precheck!(config as Config, deps),
            }
          : {}),
        run: (runCtx: ExecutorContext<JsonObject>) =>
          executor.run(runCtx as ExecutorContext<Config>),
      };
    },
    routes: (ctx) => spec.routes?.(narrow(ctx)),
    cli: (program, cli) => spec.cli?.(program, cli),
  };
}
