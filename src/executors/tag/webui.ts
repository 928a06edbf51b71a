/**
 * The Stable Diffusion WebUI tagger extension's API (toriato's `stable-diffusion-webui-wd14-tagger`
 * and its forks): `POST /tagger/v1/interrogate {image: base64, model, threshold}` and
 * `GET /tagger/v1/interrogators` → `{models: [...]}`.
 *
 * Its answer comes in two shapes: the original's flat `{caption: {general: 0.9, sensitive: 0.1, …,
 * "1girl": 0.99, …}}` with the rating classes mixed in among the tags, and the newer
 * `{caption: {tag: {…}, rating: {…}}}`. Both become a `Prediction`; a rating key is never taken
 * for a tag. The extension does not say which tags are characters, so every tag is general here
 * (the character threshold does not apply to this analyzer).
 */
import type { HttpClient } from '../../scheduler/executor.js';
import type { Prediction } from './labels.js';

/** WD14's rating classes, and DeepDanbooru's `rating:*` spellings. */
const RATING_NAMES = new Set(['general', 'sensitive', 'questionable', 'explicit', 'safe']);
const isRating = (name: string): boolean => RATING_NAMES.has(name) || name.startsWith('rating:');

/** The extension's usual default interrogator. */
export const DEFAULT_WEBUI_TAGGER = 'wd14-vit-v2-git';

export class WebuiTaggerError extends Error {
  override name = 'WebuiTaggerError';

  constructor(
    message: string,
    /** `unreachable`: no HTTP answer at all; `refused`: an HTTP error for this image. */
    readonly kind: 'unreachable' | 'refused' | 'malformed',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function scores(value: unknown, where: string): Record<string, number> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new WebuiTaggerError(`${where} is not an object of scores`, 'malformed');
  }
  const out: Record<string, number> = {};
  for (const [name, score] of Object.entries(value)) {
    if (typeof score === 'number' && Number.isFinite(score)) out[name] = score;
  }
  return out;
}

export function parseInterrogateResponse(body: unknown): Prediction {
  const caption =
    typeof body === 'object' && body !== null && 'caption' in body ? body.caption : undefined;
  if (typeof caption !== 'object' || caption === null || Array.isArray(caption)) {
    throw new WebuiTaggerError('the tagger answered without a caption object', 'malformed');
  }
  const prediction: Prediction = { tags: [], rating: {} };
  const nested =
    'tag' in caption && typeof caption.tag === 'object' && caption.tag !== null
      ? { tag: caption.tag, rating: 'rating' in caption ? caption.rating : {} }
      : null;
  const tags = nested ? scores(nested.tag, 'caption.tag') : scores(caption, 'caption');
  const ratings = nested ? scores(nested.rating ?? {}, 'caption.rating') : {};
  for (const [name, score] of Object.entries(tags)) {
    if (isRating(name)) prediction.rating[name.replace(/^rating:/, '')] = score;
    else prediction.tags.push({ name, score, category: 'general' });
  }
  for (const [name, score] of Object.entries(ratings)) {
    prediction.rating[name.replace(/^rating:/, '')] = score;
  }
  return prediction;
}

export class WebuiTagger {
  readonly url: string;

  constructor(
    url: string,
    private readonly http: HttpClient,
  ) {
    this.url = url.replace(/\/+$/, '');
  }

  async interrogators(
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<string[]> {
    const body = await this.call('GET', '/tagger/v1/interrogators', undefined, options);
    const models =
      typeof body === 'object' && body !== null && 'models' in body ? body.models : undefined;
    if (!Array.isArray(models)) {
      throw new WebuiTaggerError(
        '/tagger/v1/interrogators answered without a models list',
        'malformed',
      );
    }
    return models.filter((m): m is string => typeof m === 'string');
  }

  async interrogate(
    image: Uint8Array,
    model: string,
    threshold: number,
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<Prediction> {
    const body = await this.call(
      'POST',
      '/tagger/v1/interrogate',
      JSON.stringify({ image: Buffer.from(image).toString('base64'), model, threshold }),
      options,
    );
    return parseInterrogateResponse(body);
  }

  private async call(
    method: string,
    path: string,
    body: string | undefined,
    options: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<unknown> {
    let response: Response;
    try {
      response = await this.http.fetch(this.url + path, {
        method,
        ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new WebuiTaggerError(
        `WebUI tagger unreachable at ${this.url}: ${(error as Error).message}`,
        'unreachable',
        { cause: error },
      );
    }
    const text = await response.text();
    if (!response.ok) {
      const notInstalled = response.status === 404 && path.startsWith('/tagger/');
      throw new WebuiTaggerError(
        notInstalled
          ? `${this.url} has no tagger extension (${path} answered 404)`
          : `${path} answered HTTP ${response.status}: ${text.slice(0, 300)}`,
        notInstalled ? 'unreachable' : 'refused',
      );
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new WebuiTaggerError(`${path} answered with invalid JSON`, 'malformed');
    }
  }
}
