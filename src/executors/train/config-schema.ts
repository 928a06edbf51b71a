import { Type, type Static } from 'typebox';

/**
 * The config of a `train` task: a LoRA trained by kohya-ss/sd-scripts. Field names are the
 * trainer's own (`network_dim`, `max_train_epochs`…), so a user who knows sd-scripts reads them
 * as such. Defaults are applied by validation; `resolution` has none in the schema because it
 * depends on the model family (512 for sd15, 1024 otherwise), filled in by `resolvedResolution`.
 */

/** A file or folder name that is safe as `<lora:NAME:1>` and as a file name on every OS. */
export const OUTPUT_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$';

export const MODEL_FAMILIES = ['sd15', 'sdxl', 'flux'] as const;
export type ModelFamily = (typeof MODEL_FAMILIES)[number];

export const OPTIMIZERS = [
  'AdamW',
  'AdamW8bit',
  'PagedAdamW8bit',
  'Lion',
  'Lion8bit',
  'SGDNesterov',
  'SGDNesterov8bit',
  'DAdaptation',
  'DAdaptAdam',
  'Prodigy',
  'Adafactor',
] as const;

export const LR_SCHEDULERS = [
  'linear',
  'cosine',
  'cosine_with_restarts',
  'polynomial',
  'constant',
  'constant_with_warmup',
  'adafactor',
] as const;

const DatasetPath = Type.String({ minLength: 1, maxLength: 4096 });
const TaskIdRef = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' });
const NumRepeats = Type.Integer({ minimum: 1, maximum: 10_000 });
const ClassTokens = Type.String({ maxLength: 1000 });

export const DatasetEntrySchema = Type.Object(
  {
    dir: Type.Optional(DatasetPath),
    task_id: Type.Optional(TaskIdRef),
    num_repeats: Type.Optional(NumRepeats),
    class_tokens: Type.Optional(ClassTokens),
  },
  { additionalProperties: false },
);
export type DatasetEntry = Static<typeof DatasetEntrySchema>;

/**
 * Further trainer flags a user may pass, each with its type. Anything not listed is refused
 * (400 naming the flag): a flag reaches sd-scripts only as a typed TOML value, never as text for
 * a shell, and flags that name files or code (`--network_module`, `--output_dir`, …) are ours.
 */
export const ExtraArgsSchema = Type.Object(
  {
    gradient_checkpointing: Type.Optional(Type.Boolean()),
    cache_latents: Type.Optional(Type.Boolean()),
    cache_latents_to_disk: Type.Optional(Type.Boolean()),
    cache_text_encoder_outputs: Type.Optional(Type.Boolean()),
    xformers: Type.Optional(Type.Boolean()),
    sdpa: Type.Optional(Type.Boolean()),
    full_fp16: Type.Optional(Type.Boolean()),
    full_bf16: Type.Optional(Type.Boolean()),
    fp8_base: Type.Optional(Type.Boolean()),
    network_train_unet_only: Type.Optional(Type.Boolean()),
    network_train_text_encoder_only: Type.Optional(Type.Boolean()),
    clip_skip: Type.Optional(Type.Integer({ minimum: 1, maximum: 12 })),
    max_token_length: Type.Optional(Type.Union([Type.Literal(150), Type.Literal(225)])),
    noise_offset: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    min_snr_gamma: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    network_dropout: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    max_grad_norm: Type.Optional(Type.Number({ minimum: 0, maximum: 1000 })),
    prior_loss_weight: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    scale_weight_norms: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    lr_warmup_steps: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
    lr_scheduler_num_cycles: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    max_data_loader_n_workers: Type.Optional(Type.Integer({ minimum: 0, maximum: 64 })),
    save_precision: Type.Optional(
      Type.Union([Type.Literal('fp16'), Type.Literal('bf16'), Type.Literal('float')]),
    ),
    guidance_scale: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    timestep_sampling: Type.Optional(
      Type.Enum(['sigma', 'uniform', 'sigmoid', 'shift', 'flux_shift']),
    ),
    discrete_flow_shift: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    model_prediction_type: Type.Optional(Type.Enum(['raw', 'additive', 'sigma_scaled'])),
  },
  {
    additionalProperties: false,
    description:
      'Further sd-scripts flags from an allow-list, each typed; unknown flags are refused',
  },
);
export type ExtraArgs = Static<typeof ExtraArgsSchema>;

const ModelRef = (description: string) =>
  Type.String({ minLength: 1, maxLength: 4096, description });

export const TrainTaskConfigSchema = Type.Object(
  {
    dataset_dir: Type.Optional(
      Type.Union([DatasetPath, Type.Array(DatasetPath, { minItems: 1, maxItems: 50 })], {
        description: 'Image folder(s), relative to the data dir or under TAILOR_IMAGE_ROOTS',
      }),
    ),
    dataset_task_ids: Type.Optional(
      Type.Array(TaskIdRef, {
        minItems: 1,
        maxItems: 50,
        description: 'Earlier crawl/tag tasks whose output folders are the dataset',
      }),
    ),
    datasets: Type.Optional(
      Type.Array(DatasetEntrySchema, {
        minItems: 1,
        maxItems: 50,
        description: 'The general form: one entry per folder ({dir} or {task_id}) with its repeats',
      }),
    ),
    num_repeats: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 10,
      description: 'Repeats per image per epoch for the folders given by the shorthands',
    }),
    class_tokens: Type.Optional(ClassTokens),
    base_model: ModelRef(
      'A .safetensors/.ckpt file name under <TAILOR_MODELS_DIR>/checkpoints, or an absolute path under an allowed root',
    ),
    model_family: Type.Enum([...MODEL_FAMILIES], { default: 'sd15' }),
    clip_l: Type.Optional(ModelRef('Flux: CLIP-L file under <TAILOR_MODELS_DIR>/clip')),
    t5xxl: Type.Optional(ModelRef('Flux: T5-XXL file under <TAILOR_MODELS_DIR>/clip')),
    ae: Type.Optional(ModelRef('Flux: autoencoder file under <TAILOR_MODELS_DIR>/vae')),
    network_dim: Type.Integer({ minimum: 1, maximum: 1024, default: 32 }),
    network_alpha: Type.Number({ exclusiveMinimum: 0, maximum: 1024, default: 16 }),
    resolution: Type.Optional(
      Type.Integer({
        minimum: 256,
        maximum: 4096,
        multipleOf: 64,
        description: 'Default 512 for sd15, 1024 otherwise',
      }),
    ),
    train_batch_size: Type.Integer({ minimum: 1, maximum: 64, default: 1 }),
    max_train_epochs: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    max_train_steps: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
    learning_rate: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 1e-4 }),
    unet_lr: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
    text_encoder_lr: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    optimizer_type: Type.Enum([...OPTIMIZERS], { default: 'AdamW8bit' }),
    lr_scheduler: Type.Enum([...LR_SCHEDULERS], { default: 'cosine' }),
    mixed_precision: Type.Union([Type.Literal('fp16'), Type.Literal('bf16'), Type.Literal('no')], {
      default: 'fp16',
    }),
    save_every_n_epochs: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4_294_967_295 })),
    shuffle_caption: Type.Boolean({ default: false }),
    keep_tokens: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
    caption_extension: Type.String({ pattern: '^\\.[A-Za-z0-9_-]{1,16}$', default: '.txt' }),
    output_name: Type.Optional(
      Type.String({
        pattern: OUTPUT_NAME_PATTERN,
        description: 'File name of the LoRA (default lora-<task id>); also its <lora:NAME:1> name',
      }),
    ),
    sample_prompts: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 2000, pattern: '^[^\\n\\r]*$' }), {
        minItems: 1,
        maxItems: 50,
      }),
    ),
    sample_every_n_epochs: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    extra_args: Type.Optional(ExtraArgsSchema),
  },
  { additionalProperties: false },
);

export type TrainTaskConfig = Static<typeof TrainTaskConfigSchema>;

export function resolvedResolution(config: TrainTaskConfig): number {
  return config.resolution ?? (config.model_family === 'sd15' ? 512 : 1024);
}

/** Epochs when neither limit is given. */
export const DEFAULT_EPOCHS = 10;
