/**
 * The `train` module: LoRA training with kohya-ss/sd-scripts as a child process
 * (`POST /api/train/create`, `GET /api/train/loras`, `tailor train`). A node runs it only when
 * `KOHYA_DIR` is set; elsewhere trainings are validated and queued for a node that has it.
 */
import { defineExecutorModule, type ExecutorModule } from '../module.js';
import { trainCli } from './cli.js';
import { TrainTaskConfigSchema, type TrainTaskConfig } from './config-schema.js';
import { resolveDatasets, resolveModels, type InputRoots } from './dataset.js';
import { DEFAULT_TRAIN_TIMINGS, runTraining, type TrainTimings } from './executor.js';
import { assertTrainerScript } from './kohya-config.js';
import { trainRoutes } from './routes.js';
import { checkFieldRules } from './rules.js';

const SETTINGS = {
  kohyaDir: {
    env: 'KOHYA_DIR',
    description: 'The kohya-ss/sd-scripts checkout; a node without it does not run train tasks',
  },
  kohyaPython: {
    env: 'KOHYA_PYTHON',
    default: 'python3',
    description: "The Python of sd-scripts' environment (e.g. <KOHYA_DIR>/venv/bin/python)",
  },
  kohyaAccelerate: {
    env: 'KOHYA_ACCELERATE',
    description:
      'Launch through `python -m accelerate.commands.launch` with these space-separated arguments ' +
      '(e.g. "--num_cpu_threads_per_process 1 --mixed_precision fp16"); unset starts the script directly',
  },
  sdWebuiLoraDir: {
    env: 'SD_WEBUI_LORA_DIR',
    description: "The WebUI's LoRA folder (models/Lora): each finished LoRA is copied there",
  },
};

/** Stop grace periods and log pacing are adjustable for tests. */
export function createTrainModule(timings: Partial<TrainTimings> = {}): ExecutorModule {
  const resolvedTimings = { ...DEFAULT_TRAIN_TIMINGS, ...timings };
  return defineExecutorModule<TrainTaskConfig, typeof SETTINGS>({
    type: 'train',
    description: 'Train a LoRA with kohya-ss sd-scripts (SD 1.5, SDXL, Flux)',
    schema: TrainTaskConfigSchema,
    settings: SETTINGS,
    available: (settings) => (settings.kohyaDir === null ? 'KOHYA_DIR is not set' : null),
    executor: (ctx) => {
      const roots: InputRoots = {
        dataDir: ctx.dataDir,
        imageRoots: ctx.imageRoots,
        modelsDir: ctx.modelsDir,
      };
      return {
        prepare: (input) => {
          checkFieldRules(input);
          return Promise.resolve(input);
        },
        // Runs only on nodes that run train: the folders and models are this node's files.
        precheck: async (config) => {
          await resolveDatasets(config, roots, ctx.tasks);
          await resolveModels(config, roots);
          if (ctx.settings.kohyaDir !== null) {
            await assertTrainerScript(ctx.settings.kohyaDir, config.model_family);
          }
        },
        run: (runCtx) =>
          runTraining(runCtx, {
            launch: () => {
              const { kohyaDir } = ctx.settings;
              if (kohyaDir === null) throw new Error('KOHYA_DIR is not set on this node');
              return {
                kohyaDir,
                python: ctx.settings.kohyaPython,
                accelerate: ctx.settings.kohyaAccelerate,
              };
            },
            webuiLoraDir: ctx.settings.sdWebuiLoraDir,
            roots,
            tasks: ctx.tasks,
            timings: resolvedTimings,
          }),
      };
    },
    routes: (ctx) => async (app) => {
      await app.register(trainRoutes, { tasks: ctx.tasks });
    },
    cli: trainCli,
  });
}

export const trainModule = createTrainModule();
