/**
 * The files and the command line sd-scripts is started with. Everything the trainer is told is in
 * two TOML files in the task's folder (`dataset.toml` for `--dataset_config`, `config.toml` for
 * `--config_file`), so a user can re-run a training by hand with the same two flags; the command
 * line itself carries only those paths.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, TailorError } from '../../domain/errors.js';
import { stringify } from 'smol-toml';
import {
  DEFAULT_EPOCHS,
  resolvedResolution,
  type ModelFamily,
  type TrainTaskConfig,
} from './config-schema.js';
import type { ResolvedModels, ResolvedSubset } from './dataset.js';

type TomlValue = string | number | boolean | TomlValue[] | { [key: string]: TomlValue };
type TomlTable = { [key: string]: TomlValue };

export const TRAINER_SCRIPTS: Record<ModelFamily, string> = {
  sd15: 'train_network.py',
  sdxl: 'sdxl_train_network.py',
  flux: 'flux_train_network.py',
};

const NETWORK_MODULES: Record<ModelFamily, string> = {
  sd15: 'networks.lora',
  sdxl: 'networks.lora',
  flux: 'networks.lora_flux',
};

export const DATASET_TOML = 'dataset.toml';
export const CONFIG_TOML = 'config.toml';
export const SAMPLE_PROMPTS_FILE = 'sample_prompts.txt';

/** Drop undefined/null: TOML has no null, and an absent key keeps the trainer's default. */
function table(entries: Record<string, TomlValue | undefined | null>): TomlTable {
  const out: TomlTable = {};
  for (const [key, value] of Object.entries(entries)) {
    if (value !== undefined && value !== null) out[key] = value;
  }
  return out;
}

export function datasetToml(config: TrainTaskConfig, subsets: readonly ResolvedSubset[]): string {
  const general = table({
    shuffle_caption: config.shuffle_caption,
    caption_extension: config.caption_extension,
    keep_tokens: config.keep_tokens,
  });
  const resolution = resolvedResolution(config);
  return stringify({
    general,
    datasets: [
      {
        resolution,
        batch_size: config.train_batch_size,
        // Buckets keep non-square images whole instead of cropping them to a square.
        enable_bucket: true,
        min_bucket_reso: Math.max(256, resolution / 2),
        max_bucket_reso: resolution * 2,
        subsets: subsets.map((subset) =>
          table({
            image_dir: subset.imageDir,
            num_repeats: subset.numRepeats,
            class_tokens: subset.classTokens,
          }),
        ),
      },
    ],
  });
}

export interface TrainingPaths {
  outputDir: string;
  outputName: string;
  models: ResolvedModels;
}

export function trainingToml(config: TrainTaskConfig, paths: TrainingPaths): string {
  const limit =
    config.max_train_steps !== undefined
      ? { max_train_steps: config.max_train_steps }
      : { max_train_epochs: config.max_train_epochs ?? DEFAULT_EPOCHS };
  const sampling =
    config.sample_prompts !== undefined
      ? {
          sample_prompts: join(paths.outputDir, SAMPLE_PROMPTS_FILE),
          sample_every_n_epochs: config.sample_every_n_epochs ?? 1,
          sample_sampler: 'euler_a',
        }
      : {};
  return stringify(
    table({
      pretrained_model_name_or_path: paths.models.baseModel,
      clip_l: paths.models.clipL,
      t5xxl: paths.models.t5xxl,
      ae: paths.models.ae,
      output_dir: paths.outputDir,
      output_name: paths.outputName,
      save_model_as: 'safetensors',
      network_module: NETWORK_MODULES[config.model_family],
      network_dim: config.network_dim,
      network_alpha: config.network_alpha,
      ...limit,
      learning_rate: config.learning_rate,
      unet_lr: config.unet_lr,
      text_encoder_lr: config.text_encoder_lr,
      optimizer_type: config.optimizer_type,
      lr_scheduler: config.lr_scheduler,
      mixed_precision: config.mixed_precision,
      save_every_n_epochs: config.save_every_n_epochs,
      seed: config.seed,
      ...sampling,
      ...config.extra_args,
    }),
  );
}

export function samplePromptsFile(config: TrainTaskConfig): string | null {
  return config.sample_prompts ? config.sample_prompts.join('\n') + '\n' : null;
}

export interface LaunchSettings {
  kohyaDir: string;
  python: string;
  /** Space-separated `accelerate launch` arguments; null starts the script directly. */
  accelerate: string | null;
}

/** The program and its argument array (never a shell string). */
export function trainerCommand(
  family: ModelFamily,
  launch: LaunchSettings,
  outputDir: string,
): { command: string; args: string[] } {
  const script = join(launch.kohyaDir, TRAINER_SCRIPTS[family]);
  const scriptArgs = [
    script,
    '--dataset_config',
    join(outputDir, DATASET_TOML),
    '--config_file',
    join(outputDir, CONFIG_TOML),
  ];
  if (launch.accelerate === null) return { command: launch.python, args: scriptArgs };
  const accelerateArgs = launch.accelerate.split(/\s+/).filter(Boolean);
  return {
    command: launch.python,
    args: ['-m', 'accelerate.commands.launch', ...accelerateArgs, ...scriptArgs],
  };
}

/** A KOHYA_DIR without the family's script is a broken install: refuse the task (503) at once. */
export async function assertTrainerScript(kohyaDir: string, family: ModelFamily): Promise<void> {
  const script = join(kohyaDir, TRAINER_SCRIPTS[family]);
  const info = await stat(script).catch(() => null);
  if (!info?.isFile()) {
    throw new TailorError(
      ErrorCode.DEPENDENCY_UNAVAILABLE,
      `KOHYA_DIR has no ${TRAINER_SCRIPTS[family]} (${script}): is it a kohya-ss/sd-scripts checkout?`,
      { field: '/config/model_family', script },
    );
  }
}
