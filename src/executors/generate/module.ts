/**
 * The `generate` module: txt2img on Stable Diffusion WebUI, stored generation configs
 * (`/api/configs`), `POST /api/generate-with-config`, and `tailor generate` / `tailor configs`.
 */
import { GenerateTaskConfigSchema, type GenerateTaskConfig } from './config-schema.js';
import { createGenerateExecutor, type GenerateExecutorOptions } from './executor.js';
import { defineExecutorModule, type ExecutorModule } from '../module.js';
import { configRoutes } from './routes/configs.js';
import { generateRoutes } from './routes/generate.js';
import { ConfigStore } from './storage/configs.js';
import { POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS } from './storage/migrations.js';
import { generateCli } from './cli.js';
import { resolveStoredConfig } from './stored-config.js';
import { CatalogCache } from './catalog.js';
import { Previews } from './previews.js';
import { webuiRoutes } from './routes/webui.js';
import { WebuiClient } from './webui-client.js';

const SETTINGS = {
  sdWebuiUrl: {
    env: 'SD_WEBUI_URL',
    default: 'http://127.0.0.1:7860',
    description: 'Stable Diffusion WebUI (AUTOMATIC1111 / Forge) started with --api',
  },
};

/** Timings are adjustable for tests; the WebUI URL is the `sdWebuiUrl` setting. */
export function createGenerateModule(
  timings: Omit<GenerateExecutorOptions, 'webuiUrl' | 'http' | 'previews' | 'catalog'> = {},
): ExecutorModule {
  // Shared by the executor and the routes of every server in this process: previews are keyed by
  // task id, name lists by WebUI URL.
  const previews = new Previews();
  const catalogs = new Map<string, CatalogCache>();
  const catalogFor = (url: string): CatalogCache => {
    let cache = catalogs.get(url);
    if (!cache) catalogs.set(url, (cache = new CatalogCache()));
    return cache;
  };
  const urlOf = (settings: { sdWebuiUrl: string }): string =>
    settings.sdWebuiUrl.replace(/\/+$/, '');
  return defineExecutorModule<GenerateTaskConfig, typeof SETTINGS, ConfigStore>({
    type: 'generate',
    description: 'Generate images with Stable Diffusion WebUI (txt2img)',
    schema: GenerateTaskConfigSchema,
    settings: SETTINGS,
    storage: {
      migrations: { sqlite: SQLITE_MIGRATIONS, postgres: POSTGRES_MIGRATIONS },
      open: (sql) => new ConfigStore(sql),
    },
    executor: (ctx) => ({
      ...createGenerateExecutor({
        ...timings,
        webuiUrl: urlOf(ctx.settings),
        previews,
        catalog: catalogFor(urlOf(ctx.settings)),
      }),
      prepare: (input) => resolveStoredConfig(ctx.storage, input),
    }),
    routes: (ctx) => async (app) => {
      await app.register(configRoutes, { store: ctx.storage });
      await app.register(generateRoutes, { tasks: ctx.tasks });
      await app.register(webuiRoutes, {
        client: new WebuiClient({ url: urlOf(ctx.settings), http: ctx.http }),
        catalog: catalogFor(urlOf(ctx.settings)),
        previews,
        timeoutMs: timings.requestTimeoutMs ?? 10_000,
      });
    },
    cli: generateCli,
  });
}

export const generateModule = createGenerateModule();
