/**
 * The `tag` module: WD14 captions for LoRA training sets, from a local ONNX model
 * (`<models>/wd14/<name>/`) or the WebUI tagger extension. `POST /api/tag/create`,
 * `GET /api/tag/models`, `POST /api/tag/analyze`, `tailor tag` and `tailor models pull|list`.
 */
import { ErrorCode, TailorError } from '../../domain/errors.js';
import {
  defineExecutorModule,
  type ExecutorModule,
  type ModuleContext,
  type SettingValues,
} from '../module.js';
import { tagCli } from './cli.js';
import { resolveFolders, TagRun, type TagServices } from './executor.js';
import { DEFAULT_HF_ENDPOINT } from './pull.js';
import { tagRoutes } from './routes.js';
import { TagConfigSchema, normaliseTagInput, type TagConfig } from './schema.js';
import { WebuiTagger, WebuiTaggerError } from './webui.js';
import { Wd14Models } from './wd14/model.js';

const SETTINGS = {
  wd14Model: {
    env: 'TAILOR_WD14_MODEL',
    description: 'Default WD14 model: a folder under <models>/wd14 (else the only one installed)',
  },
  hfEndpoint: {
    env: 'HF_ENDPOINT',
    default: DEFAULT_HF_ENDPOINT,
    description: 'Hugging Face hub or mirror that `tailor models pull` downloads from',
  },
  // The same key and env var as the generate module: one WebUI serves both.
  sdWebuiUrl: {
    env: 'SD_WEBUI_URL',
    default: 'http://127.0.0.1:7860',
    description: 'Stable Diffusion WebUI (AUTOMATIC1111 / Forge) started with --api',
  },
};

export interface TagModuleOptions {
  /** How long a loaded model stays in memory without use. */
  modelIdleMs?: number;
}

export function createTagModule(options: TagModuleOptions = {}): ExecutorModule {
  return defineExecutorModule<TagConfig, typeof SETTINGS>({
    type: 'tag',
    description: 'Tag images with WD14 (local ONNX model or the WebUI tagger) for training sets',
    schema: TagConfigSchema,
    settings: SETTINGS,
    executor: (ctx) => {
      const services = tagServices(ctx, options);
      return {
        // Runs on every node before validation: the original names, then the paths — a path that
        // leaves the allowed folders is a 403 and no task, whichever node receives it.
        async prepare(input) {
          const config = normaliseTagInput(input);
          const paths =
            typeof config === 'object' && config !== null && !Array.isArray(config)
              ? pathFields(config)
              : null;
          if (paths) await resolveFolders(paths, services);
          return config;
        },
        async precheck(config) {
          if (config.analyzer === 'webui') await checkWebui(services, config.model);
          else await services.models.resolve(config.model, services.defaultModel);
        },
        run: (runCtx) => new TagRun(runCtx, services).run(),
      };
    },
    routes: (ctx) => async (app) => {
      await app.register(tagRoutes, { tasks: ctx.tasks, services: tagServices(ctx, options) });
    },
    cli: tagCli,
  });
}

/** One model cache per server: the executor, the models listing and analyze share it. */
const servicesOf = new WeakMap<object, TagServices>();

function tagServices(
  ctx: ModuleContext<SettingValues<typeof SETTINGS>, undefined>,
  options: TagModuleOptions,
): TagServices {
  const known = servicesOf.get(ctx);
  if (known) return known;
  const services: TagServices = {
    roots: { dataDir: ctx.dataDir, imageRoots: ctx.imageRoots },
    tasks: ctx.tasks,
    models: new Wd14Models(ctx.modelsDir, options.modelIdleMs),
    defaultModel: ctx.settings.wd14Model,
    webuiUrl: ctx.settings.sdWebuiUrl,
    http: ctx.http,
  };
  servicesOf.set(ctx, services);
  return services;
}

/**
 * The path fields of a not yet validated config. Null when one has the wrong type: validation
 * then names the field, which is a better answer than a path check of half the input.
 */
function pathFields(config: object): {
  input_dir?: string | string[];
  input_task_id?: string;
  output_dir?: string;
} | null {
  const c = config as Record<string, unknown>;
  const { input_dir: inputDir, input_task_id: taskId, output_dir: outputDir } = c;
  const validInput =
    inputDir === undefined ||
    typeof inputDir === 'string' ||
    (Array.isArray(inputDir) && inputDir.every((d) => typeof d === 'string'));
  if (!validInput) return null;
  if (taskId !== undefined && typeof taskId !== 'string') return null;
  if (outputDir !== undefined && typeof outputDir !== 'string') return null;
  return {
    ...(inputDir === undefined ? {} : { input_dir: inputDir as string | string[] }),
    ...(taskId === undefined ? {} : { input_task_id: taskId }),
    ...(outputDir === undefined ? {} : { output_dir: outputDir }),
  };
}

async function checkWebui(services: TagServices, model: string | undefined): Promise<void> {
  const tagger = new WebuiTagger(services.webuiUrl, services.http);
  let models: string[];
  try {
    models = await tagger.interrogators({ timeoutMs: 10_000 });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new TailorError(
      ErrorCode.DEPENDENCY_UNAVAILABLE,
      error instanceof WebuiTaggerError && error.kind === 'unreachable'
        ? message
        : `WebUI tagger unavailable at ${tagger.url}: ${message}`,
      { url: tagger.url },
    );
  }
  if (model !== undefined && !models.includes(model)) {
    throw new TailorError(
      ErrorCode.VALIDATION,
      `/model: the WebUI tagger has no interrogator ${JSON.stringify(model)} (it has ${models.join(', ') || 'none'})`,
      { field: '/model', installed: models },
    );
  }
}

export const tagModule = createTagModule();
