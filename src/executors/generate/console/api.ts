import type { TailorClient } from '../../../client/index.js';
import type { GenerationParamsInput, LoraInput } from '../config-schema.js';

/** A stored config as `/api/configs` returns it. */
export type StoredConfig = GenerationParamsInput & {
  id: string;
  name: string;
  category: string;
  created_at: string;
  updated_at: string;
};

export type Lora = LoraInput;

/** What `GET /api/generate/options` lists (from the WebUI, through the server); null = not served. */
export interface WebuiOptions {
  samplers: string[] | null;
  models: string[] | null;
  vaes: string[] | null;
  upscalers: string[] | null;
  loras: string[] | null;
}

const OPTIONS_PATH = '/api/generate/options';
const PREVIEW_PATH = '/api/generate/{task_id}/preview';

/** Every stored config (the library shows them all; a server holds tens, not thousands). */
export async function listConfigs(client: TailorClient): Promise<StoredConfig[]> {
  const all: StoredConfig[] = [];
  for (let page = 1; page <= 20; page++) {
    const data = await client.call<{ configs: StoredConfig[]; pagination: { total: number } }>(
      `/api/configs?page=${page}&page_size=100`,
      undefined,
      'GET',
    );
    all.push(...data.configs);
    if (data.configs.length < 100 || all.length >= data.pagination.total) break;
  }
  return all;
}

export const saveConfig = (
  client: TailorClient,
  id: string | null,
  body: Record<string, unknown>,
): Promise<StoredConfig> =>
  id
    ? client.call(`/api/configs/${encodeURIComponent(id)}`, body, 'PUT')
    : client.call('/api/configs', body, 'POST');

export const duplicateConfig = (client: TailorClient, id: string): Promise<StoredConfig> =>
  client.call(`/api/configs/${encodeURIComponent(id)}/duplicate`, {});

export const deleteConfig = (client: TailorClient, id: string): Promise<{ id: string }> =>
  client.call(`/api/configs/${encodeURIComponent(id)}`, undefined, 'DELETE');

export const generateWithConfig = (
  client: TailorClient,
  configId: string,
  override: Record<string, unknown>,
) =>
  client.call<{ id: string; status: string }>('/api/generate-with-config', {
    config_id: configId,
    ...(Object.keys(override).length > 0 ? { override } : {}),
  });

/**
 * Which optional endpoints this server has. The pickers and the live preview are newer than the
 * page; asking the OpenAPI document first means an older server gets free-text pickers and no
 * preview, instead of 404s in the console.
 */
export async function serverFeatures(
  client: TailorClient,
  token: string | null,
): Promise<{ options: boolean; preview: boolean }> {
  try {
    const response = await fetch(`${client.baseUrl}/openapi.json`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    if (!response.ok) return { options: false, preview: false };
    const doc = (await response.json()) as { paths?: Record<string, unknown> };
    const paths = doc.paths ?? {};
    return { options: OPTIONS_PATH in paths, preview: PREVIEW_PATH in paths };
  } catch {
    return { options: false, preview: false };
  }
}

export const webuiOptions = (client: TailorClient): Promise<WebuiOptions> =>
  client.call(OPTIONS_PATH, undefined, 'GET');

export const previewPath = (taskId: string): string =>
  PREVIEW_PATH.replace('{task_id}', encodeURIComponent(taskId));

/** The generation fields of a stored config (what an override may change). */
export const GENERATION_KEYS = [
  'prompt',
  'negative_prompt',
  'steps',
  'cfg_scale',
  'width',
  'height',
  'sampler',
  'scheduler',
  'seed',
  'batch_size',
  'batch_count',
  'loop_count',
  'model',
  'vae',
  'clip_skip',
  'enable_hr',
  'hr_scale',
  'hr_upscaler',
  'hr_second_pass_steps',
  'denoising_strength',
  'loras',
] as const;

export type Draft = Partial<Record<(typeof GENERATION_KEYS)[number], unknown>>;

/** The fields of `draft` that differ from `stored`: the override of one generation. */
export function overrideOf(stored: Draft, draft: Draft): Record<string, unknown> {
  const override: Record<string, unknown> = {};
  for (const key of GENERATION_KEYS) {
    if (!(key in draft)) continue;
    if (JSON.stringify(draft[key] ?? null) !== JSON.stringify(stored[key] ?? null))
      override[key] = draft[key];
  }
  return override;
}

export function draftOf(config: Record<string, unknown>): Draft {
  const draft: Draft = {};
  for (const key of GENERATION_KEYS) if (config[key] !== undefined) draft[key] = config[key];
  return draft;
}
