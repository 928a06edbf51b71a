import { Type, type Static } from 'typebox';
import { TASK_ID_PATTERN } from '../../domain/task.js';

/**
 * The config of a `tag` task (SPEC §6). Fields with a default are optional on input; validation
 * (ajv, `useDefaults`, no coercion) fills them in, so the executor sees `TagConfig`. The original
 * front-end's names (`analyzer: "wd14tagger"`, `skip_tags`, `extend_tags`) are turned into these by
 * the module's `prepare` step, which runs before validation on every create path.
 */

const TagList = (description: string) =>
  Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 500, description });

const Path = Type.String({ minLength: 1, maxLength: 4096 });

export const ANALYZERS = ['wd14', 'webui'] as const;
export type Analyzer = (typeof ANALYZERS)[number];
export const SAVE_TYPES = ['txt', 'json', 'csv'] as const;
export type SaveType = (typeof SAVE_TYPES)[number];

/** Everything that decides which tags a caption gets and how they are written. */
export const selectionProperties = {
  model: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 200,
      pattern: '^[^/\\\\\\0]+$',
      description:
        'wd14: a folder under <models>/wd14 (default TAILOR_WD14_MODEL, else the only installed model); ' +
        'webui: an interrogator name as /tagger/v1/interrogators lists it',
    }),
  ),
  threshold: Type.Optional(
    Type.Number({ minimum: 0, maximum: 1, default: 0.35, description: 'General tags' }),
  ),
  character_threshold: Type.Optional(
    Type.Number({ minimum: 0, maximum: 1, default: 0.85, description: 'Character tags' }),
  ),
  mcut: Type.Optional(
    Type.Boolean({
      default: false,
      description:
        'MCut thresholding: the midpoint of the largest gap between sorted scores replaces both ' +
        'thresholds (at least 0.15 for characters)',
    }),
  ),
  exclude_tags: Type.Optional(
    TagList('Never written (matched with and without underscores); alias skip_tags'),
  ),
  prepend_tags: Type.Optional(
    TagList('Written first, verbatim, and not repeated by the model; alias extend_tags'),
  ),
  tag_order: Type.Optional(
    Type.Enum(['score', 'alpha'], { default: 'score', description: 'Order within a category' }),
  ),
  character_first: Type.Optional(Type.Boolean({ default: true })),
  replace_underscores: Type.Optional(
    Type.Boolean({
      default: true,
      description: 'long_hair → long hair (kaomoji such as ^_^ kept)',
    }),
  ),
  escape_brackets: Type.Optional(Type.Boolean({ default: false, description: '( ) → \\( \\)' })),
  include_rating: Type.Optional(
    Type.Boolean({ default: false, description: 'The top rating tag after the prepended tags' }),
  ),
};

export const TagConfigSchema = Type.Object(
  {
    input_dir: Type.Optional(
      Type.Union([Path, Type.Array(Path, { minItems: 1, maxItems: 100 })], {
        description:
          'Folder(s) of images: relative to the data dir, or absolute under TAILOR_IMAGE_ROOTS',
      }),
    ),
    input_task_id: Type.Optional(
      Type.String({
        pattern: TASK_ID_PATTERN,
        description: 'Tag the output folder of an earlier task (a crawl or a generation)',
      }),
    ),
    output_dir: Type.Optional({
      ...Path,
      description: 'Write captions here, mirroring the input folders; default beside each image',
    }),
    analyzer: Type.Optional(
      Type.Enum([...ANALYZERS], {
        default: 'wd14',
        description: 'wd14: local ONNX model; webui: the WebUI tagger extension',
      }),
    ),
    ...selectionProperties,
    save_type: Type.Optional(
      Type.Enum([...SAVE_TYPES], {
        default: 'txt',
        description:
          'txt: <stem>.txt; json: <stem>.tags.json; csv: one tags.csv in the task folder',
      }),
    ),
    recursive: Type.Optional(Type.Boolean({ default: false })),
    overwrite: Type.Optional(
      Type.Boolean({ default: false, description: 'Replace existing captions' }),
    ),
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 10_000_000, description: 'At most this many images' }),
    ),
    batch_size: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 256,
        default: 8,
        description: 'Images per inference (when the model allows batches)',
      }),
    ),
  },
  { additionalProperties: false },
);

export type TagConfigInput = Static<typeof TagConfigSchema>;
type Defaulted =
  | 'analyzer'
  | 'threshold'
  | 'character_threshold'
  | 'mcut'
  | 'exclude_tags'
  | 'prepend_tags'
  | 'tag_order'
  | 'character_first'
  | 'replace_underscores'
  | 'escape_brackets'
  | 'include_rating'
  | 'save_type'
  | 'recursive'
  | 'overwrite'
  | 'batch_size';
/** After validation: every defaulted field is present. */
export type TagConfig = Omit<TagConfigInput, Defaulted | 'exclude_tags' | 'prepend_tags'> &
  Required<Pick<TagConfigInput, Exclude<Defaulted, 'exclude_tags' | 'prepend_tags'>>> & {
    exclude_tags?: string[];
    prepend_tags?: string[];
  };

/** The original names still accepted on input. */
export const ALIASES = { skip_tags: 'exclude_tags', extend_tags: 'prepend_tags' } as const;

/**
 * The original front-end's spellings into this schema's: `analyzer: "wd14tagger"` → `"wd14"`,
 * `skip_tags` → `exclude_tags`, `extend_tags` → `prepend_tags` (a comma-separated string, as the
 * original sent, becomes a list). Anything else is left for validation to judge.
 */
export function normaliseTagInput(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const out: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  if (out.analyzer === 'wd14tagger') out.analyzer = 'wd14';
  for (const [alias, field] of Object.entries(ALIASES)) {
    if (!(alias in out)) continue;
    const value = out[alias];
    delete out[alias];
    if (field in out) {
      // Both spellings given: keep the canonical one, which validation then judges.
      continue;
    }
    out[field] = value;
  }
  for (const field of ['exclude_tags', 'prepend_tags']) {
    const value = out[field];
    if (typeof value === 'string') {
      out[field] = value
        .split(',')
        .map((tag) => tag.trim())
        .filter((tag) => tag.length > 0);
    }
  }
  return out;
}
