import { Type, type Static } from 'typebox';

/**
 * A generation config: the flat fields of the original PixivTailor configs, stored as the
 * opaque body of a named config and merged into the config of every `generate` task made from it.
 *
 * Fields with a default are optional on input; validation (ajv with `useDefaults`, no coercion)
 * fills them in, so an executor always sees the resolved shape `GenerationParams`. `scheduler`,
 * `model`, `vae` and `clip_skip` have no default on purpose: left out, the WebUI keeps its own
 * current setting instead of being switched by us.
 */

/** `<lora:name:weight>` cannot carry these; a name with them would silently break the prompt. */
const LORA_NAME_PATTERN = '^[^<>:\\n\\r]*$';

export const LoraSchema = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 200,
      pattern: LORA_NAME_PATTERN,
      description: 'LoRA file name without extension, as the WebUI lists it',
    }),
    weight: Type.Optional(Type.Number({ minimum: -5, maximum: 5, default: 1 })),
    trigger_words: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 500 }), {
        maxItems: 50,
        default: [],
        description: 'Added to the prompt after the LoRA tag',
      }),
    ),
  },
  { additionalProperties: false },
);

const Dimension = (description: string) =>
  Type.Optional(
    Type.Integer({ minimum: 64, maximum: 4096, multipleOf: 8, default: 512, description }),
  );

const generationProperties = {
  prompt: Type.String({
    maxLength: 20_000,
    description: 'Positive prompt; LoRA tags are appended',
  }),
  negative_prompt: Type.Optional(Type.String({ maxLength: 20_000, default: '' })),
  steps: Type.Optional(Type.Integer({ minimum: 1, maximum: 150, default: 20 })),
  cfg_scale: Type.Optional(Type.Number({ minimum: 1, maximum: 30, default: 7 })),
  width: Dimension('Image width in pixels, a multiple of 8'),
  height: Dimension('Image height in pixels, a multiple of 8'),
  sampler: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 100,
      default: 'Euler a',
      description: 'WebUI sampler_name',
    }),
  ),
  scheduler: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 100,
      description: 'WebUI scheduler, e.g. Karras; omitted = Automatic',
    }),
  ),
  seed: Type.Optional(
    Type.Integer({
      minimum: -1,
      maximum: 4_294_967_295,
      default: -1,
      description: '-1 = random; a fixed seed advances by the image count of each loop',
    }),
  ),
  batch_size: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 16, default: 1, description: 'Images generated together' }),
  ),
  batch_count: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 1,
      description: 'Batches per WebUI request (n_iter)',
    }),
  ),
  loop_count: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 1,
      description: 'WebUI requests made one after another',
    }),
  ),
  model: Type.Optional(
    Type.String({
      maxLength: 300,
      description: 'sd_model_checkpoint; omitted or empty = the loaded model',
    }),
  ),
  vae: Type.Optional(
    Type.String({ maxLength: 300, description: 'sd_vae; omitted or empty = the WebUI setting' }),
  ),
  clip_skip: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 12,
      description: 'CLIP_stop_at_last_layers; omitted = the WebUI setting',
    }),
  ),
  enable_hr: Type.Optional(Type.Boolean({ default: false, description: 'Hires fix' })),
  hr_scale: Type.Optional(Type.Number({ minimum: 1, maximum: 4, default: 2 })),
  hr_upscaler: Type.Optional(Type.String({ minLength: 1, maxLength: 100, default: 'Latent' })),
  hr_second_pass_steps: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 150, default: 0, description: '0 = as many as steps' }),
  ),
  denoising_strength: Type.Optional(Type.Number({ minimum: 0, maximum: 1, default: 0.7 })),
  loras: Type.Optional(Type.Array(LoraSchema, { maxItems: 20, default: [] })),
};

/** The body of a stored generation config (what `/api/configs` keeps besides name and category). */
export const GenerationParamsSchema = Type.Object(generationProperties, {
  additionalProperties: false,
  description: 'Stable Diffusion WebUI generation parameters',
});

/** A generation config as the configs API shows it: name and category next to the flat fields. */
export const GenerationConfigSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    category: Type.Optional(Type.String({ maxLength: 100, default: '' })),
    ...generationProperties,
  },
  { additionalProperties: false },
);

/** The config of a `generate` task: the merged parameters plus where they came from. */
export const GenerateTaskConfigSchema = Type.Object(
  {
    ...generationProperties,
    config_id: Type.Optional(
      Type.String({ maxLength: 100, description: 'Stored config it was made from' }),
    ),
    config_name: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

/** Fields without a default: absent means "leave the WebUI's setting alone". */
type UnsetKeys = 'scheduler' | 'model' | 'vae' | 'clip_skip';

type Resolved<T, Unset extends keyof T> = Required<Omit<T, Unset | 'loras'>> &
  Pick<T, Unset> & { loras: Lora[] };

export type LoraInput = Static<typeof LoraSchema>;
export type Lora = Required<LoraInput>;
/** What a client may send; defaults not yet applied. */
export type GenerationParamsInput = Static<typeof GenerationParamsSchema>;
/** After validation: every defaulted field is present. */
export type GenerationParams = Resolved<GenerationParamsInput, UnsetKeys>;
export type GenerationConfigInput = Static<typeof GenerationConfigSchema>;
export type GenerateTaskConfigInput = Static<typeof GenerateTaskConfigSchema>;
export type GenerateTaskConfig = Resolved<
  GenerateTaskConfigInput,
  UnsetKeys | 'config_id' | 'config_name'
>;

/** Names of the generation fields, for splitting a flat configs-API body into name/category/body. */
export const GENERATION_FIELDS = Object.keys(
  generationProperties,
) as (keyof GenerationParamsInput)[];
