import type { MessageKey } from '../i18n/en.js';

/**
 * The details of an image worth showing, read from whatever its sidecar holds. Executors write
 * different shapes (a generation nests its request under `parameters`; a crawled work has Pixiv's
 * `title`, `userName`, `tags`), and the gallery knows no task type: it looks for these fields
 * wherever they usually are. Pure, tested in test/web/gallery.test.ts.
 */
export interface ImageDetail {
  key: MessageKey;
  value: string;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function first(sources: Record<string, unknown>[], names: string[]): string | null {
  for (const source of sources)
    for (const name of names) {
      const value = source[name];
      if (typeof value === 'string' && value !== '') return value;
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    }
  return null;
}

/** Pixiv tags come as strings, as `{tag}` objects, or as `{tags: [{tag}]}`. */
function tagsOf(value: unknown): string[] {
  if (isObject(value) && Array.isArray(value.tags)) return tagsOf(value.tags);
  if (!Array.isArray(value)) return [];
  return value.flatMap((item: unknown) => {
    if (typeof item === 'string') return [item];
    if (isObject(item) && typeof item.tag === 'string') return [item.tag];
    return [];
  });
}

const FIELDS: { key: MessageKey; names: string[] }[] = [
  { key: 'gallery.pixivTitle', names: ['title', 'illustTitle'] },
  { key: 'gallery.author', names: ['userName', 'user_name', 'author'] },
  { key: 'gallery.prompt', names: ['prompt'] },
  { key: 'gallery.negativePrompt', names: ['negative_prompt'] },
  { key: 'gallery.seed', names: ['seed'] },
  { key: 'gallery.sampler', names: ['sampler_name', 'sampler'] },
  { key: 'gallery.steps', names: ['steps'] },
  { key: 'gallery.model', names: ['model', 'sd_model_name'] },
];

export function describeSidecar(sidecar: Record<string, unknown> | null): ImageDetail[] {
  if (!sidecar) return [];
  // The sidecar's own fields win over the request's (the seed actually used, not -1).
  const sources = [sidecar, ...(isObject(sidecar.parameters) ? [sidecar.parameters] : [])];
  const details: ImageDetail[] = [];
  for (const field of FIELDS) {
    const value = first(sources, field.names);
    if (value !== null) details.push({ key: field.key, value });
  }
  const tags = tagsOf(sidecar.tags);
  if (tags.length > 0) details.push({ key: 'gallery.tags', value: tags.join(', ') });
  return details;
}
