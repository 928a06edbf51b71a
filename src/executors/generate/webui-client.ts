import type { HttpClient } from '../../scheduler/executor.js';

/**
 * A small client for the Stable Diffusion WebUI API (AUTOMATIC1111 / Forge, started with `--api`).
 * Every failure becomes a `WebuiError` whose message a user can act on: the URL it could not reach,
 * or the HTTP status with the WebUI's own error text (`{error, detail, errors}`), which is where a
 * CUDA out-of-memory report shows up.
 */

/** The `/sdapi/v1/txt2img` request fields this project sends. */
export interface Txt2ImgRequest {
  prompt: string;
  negative_prompt: string;
  steps: number;
  cfg_scale: number;
  width: number;
  height: number;
  sampler_name: string;
  scheduler?: string;
  seed: number;
  batch_size: number;
  n_iter: number;
  enable_hr: boolean;
  hr_scale?: number;
  hr_upscaler?: string;
  hr_second_pass_steps?: number;
  denoising_strength?: number;
  override_settings: Record<string, string | number>;
  override_settings_restore_afterwards: boolean;
  send_images: boolean;
  save_images: boolean;
}

export interface Txt2ImgResponse {
  /** Base64 images; with the WebUI's "return grid" option the grid comes first. */
  images: string[];
  /** The WebUI's `info`, parsed from its JSON string; empty when absent or unparsable. */
  info: Txt2ImgInfo;
}

export interface Txt2ImgInfo {
  seed?: number;
  all_seeds?: number[];
  subseed?: number;
  all_subseeds?: number[];
  infotexts?: string[];
  index_of_first_image?: number;
  sd_model_name?: string;
  sd_model_hash?: string;
  sd_vae_name?: string;
  [key: string]: unknown;
}

export interface ProgressState {
  job: string;
  job_count: number;
  job_no: number;
  sampling_step: number;
  sampling_steps: number;
  interrupted: boolean;
  skipped: boolean;
}

export interface WebuiProgress {
  /** 0–1 over the WebUI's current job; 0 when idle. */
  progress: number;
  eta_relative: number;
  state: ProgressState;
  textinfo: string | null;
  /** Base64 PNG of the image being sampled; only when asked for and the WebUI has one. */
  current_image: string | null;
}

/**
 * What the WebUI offers, by the names a generation config uses. A list is null when the WebUI
 * does not serve it (an older WebUI, or the LoRA extension disabled): nothing is checked then.
 */
export interface WebuiCatalog {
  samplers: string[] | null;
  /** Checkpoint titles (`name.safetensors [hash]`) and bare names, as `sd_model_checkpoint` takes. */
  models: string[] | null;
  vaes: string[] | null;
  upscalers: string[] | null;
  loras: string[] | null;
}

export type WebuiErrorKind = 'unreachable' | 'connection-lost' | 'timeout' | 'http' | 'protocol';

export class WebuiError extends Error {
  constructor(
    readonly kind: WebuiErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'WebuiError';
  }
}

export interface WebuiClientOptions {
  /** Base URL, e.g. `http://127.0.0.1:7860`; `user:pass@` becomes Basic auth (`--api-auth`). */
  url: string;
  http: HttpClient;
}

interface CallOptions {
  signal?: AbortSignal | undefined;
  timeoutMs: number;
}

export class WebuiClient {
  /** The base URL without credentials, for messages. */
  readonly url: string;
  private readonly base: URL;
  private readonly headers: Record<string, string>;
  private readonly http: HttpClient;

  constructor(options: WebuiClientOptions) {
    const base = new URL(options.url);
    this.headers = { accept: 'application/json' };
    if (base.username || base.password) {
      const user = decodeURIComponent(base.username);
      const pass = decodeURIComponent(base.password);
      this.headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
      base.username = '';
      base.password = '';
    }
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.base = base;
    this.url = base.href.replace(/\/$/, '');
    this.http = options.http;
  }

  async txt2img(request: Txt2ImgRequest, options: CallOptions): Promise<Txt2ImgResponse> {
    const body = await this.call('POST', 'sdapi/v1/txt2img', 'txt2img', options, request);
    if (
      !isObject(body) ||
      !Array.isArray(body.images) ||
      !body.images.every((i) => typeof i === 'string')
    ) {
      throw new WebuiError(
        'protocol',
        `SD WebUI at ${this.url} answered txt2img without an images list`,
      );
    }
    return { images: body.images as string[], info: parseInfo(body.info) };
  }

  /** The current job's progress; with `withImage`, also its preview image (a larger answer). */
  async progress(options: CallOptions & { withImage?: boolean }): Promise<WebuiProgress> {
    const body = await this.call(
      'GET',
      `sdapi/v1/progress?skip_current_image=${options.withImage ? 'false' : 'true'}`,
      'progress',
      options,
    );
    if (!isObject(body))
      throw new WebuiError(
        'protocol',
        `SD WebUI at ${this.url} answered progress with a non-object`,
      );
    const state = isObject(body.state) ? body.state : {};
    return {
      progress: finite(body.progress),
      eta_relative: finite(body.eta_relative),
      textinfo: typeof body.textinfo === 'string' ? body.textinfo : null,
      state: {
        job: typeof state.job === 'string' ? state.job : '',
        job_count: finite(state.job_count),
        job_no: finite(state.job_no),
        sampling_step: finite(state.sampling_step),
        sampling_steps: finite(state.sampling_steps),
        interrupted: state.interrupted === true,
        skipped: state.skipped === true,
      },
      current_image:
        typeof body.current_image === 'string' && body.current_image !== ''
          ? body.current_image
          : null,
    };
  }

  /** Samplers, checkpoints, VAEs, upscalers and LoRAs, fetched together. */
  async catalog(options: CallOptions): Promise<WebuiCatalog> {
    const list = async (path: string, names: (item: Record<string, unknown>) => unknown[]) => {
      try {
        const body = await this.call('GET', path, path.split('/').pop() ?? path, options);
        if (!Array.isArray(body)) return null;
        return [
          ...new Set(
            body.flatMap((item) =>
              isObject(item)
                ? names(item).filter((n): n is string => typeof n === 'string' && n !== '')
                : [],
            ),
          ),
        ];
      } catch (error) {
        if (error instanceof WebuiError && error.kind === 'http' && error.status === 404)
          return null;
        throw error;
      }
    };
    const [samplers, models, vaes, upscalers, latent, loras] = await Promise.all([
      list('sdapi/v1/samplers', (s) => [s.name, ...(Array.isArray(s.aliases) ? s.aliases : [])]),
      list('sdapi/v1/sd-models', (m) => [m.title, m.model_name]),
      list('sdapi/v1/sd-vae', (v) => [v.model_name]),
      list('sdapi/v1/upscalers', (u) => [u.name]),
      list('sdapi/v1/latent-upscale-modes', (u) => [u.name]),
      list('sdapi/v1/loras', (l) => [l.name, l.alias]),
    ]);
    // Hires fix takes a latent mode ("Latent (bicubic)") as well as an upscaler model.
    const allUpscalers = upscalers && [...upscalers, ...(latent ?? [])];
    return { samplers, models, vaes, upscalers: allUpscalers, loras };
  }

  /** Stops whatever the WebUI is generating: only call it while this task's request is in flight. */
  async interrupt(options: CallOptions): Promise<void> {
    await this.call('POST', 'sdapi/v1/interrupt', 'interrupt', options);
  }

  /** Reachability: the API answers (a WebUI started without `--api` answers 404 here). */
  async probe(options: CallOptions): Promise<void> {
    await this.call('GET', 'sdapi/v1/progress?skip_current_image=true', 'progress', options);
  }

  private async call(
    method: 'GET' | 'POST',
    path: string,
    what: string,
    options: CallOptions,
    body?: unknown,
  ): Promise<unknown> {
    const headers = { ...this.headers };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    let text: string;
    try {
      response = await this.http.fetch(new URL(path, this.base), {
        method,
        headers,
        body: body === undefined ? (method === 'POST' ? '{}' : undefined) : JSON.stringify(body),
        signal: options.signal,
        timeoutMs: options.timeoutMs,
      });
      text = await response.text();
    } catch (error) {
      // The caller's own abort is not a WebUI failure: let it through unchanged.
      if (options.signal?.aborted) throw error;
      throw this.describeTransportError(error, what, options.timeoutMs);
    }
    if (!response.ok) {
      throw new WebuiError(
        'http',
        `SD WebUI ${what} failed with HTTP ${response.status}${describeErrorBody(text, response.statusText)}`,
        response.status,
      );
    }
    if (text.trim() === '') return null;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new WebuiError(
        'protocol',
        `SD WebUI at ${this.url} answered ${what} with something that is not JSON`,
      );
    }
  }

  private describeTransportError(error: unknown, what: string, timeoutMs: number): WebuiError {
    if (isTimeout(error)) {
      return new WebuiError(
        'timeout',
        `SD WebUI at ${this.url} did not answer ${what} within ${formatMs(timeoutMs)}`,
      );
    }
    const code = errorCode(error);
    if (code && UNREACHABLE_CODES.has(code)) {
      return new WebuiError('unreachable', `SD WebUI unreachable at ${this.url} (${code})`);
    }
    const reason = causeMessage(error);
    return new WebuiError(
      'connection-lost',
      `SD WebUI at ${this.url} dropped the connection during ${what} (${reason}); it may have crashed or restarted`,
    );
  }
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** `{"error":"OutOfMemoryError","detail":"","errors":"CUDA out of memory…"}` → one readable line. */
export function describeErrorBody(text: string, statusText = ''): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const plain = text.replace(/\s+/g, ' ').trim().slice(0, 500);
    return plain ? `: ${plain}` : statusText ? ` ${statusText}` : '';
  }
  if (!isObject(parsed)) return '';
  const pieces: string[] = [];
  if (typeof parsed.error === 'string' && parsed.error) pieces.push(parsed.error);
  const detail = describeDetail(parsed.detail);
  if (detail) pieces.push(detail);
  if (typeof parsed.errors === 'string' && parsed.errors && parsed.errors !== detail)
    pieces.push(parsed.errors);
  const message = pieces.join(': ').slice(0, 1000);
  if (!message) return statusText ? ` ${statusText}` : '';
  const hint = /out of memory/i.test(message)
    ? ' (the GPU ran out of memory: lower width/height, batch_size or the hires scale)'
    : '';
  return `: ${message}${hint}`;
}

/** FastAPI puts a string in `detail`, or a list of `{loc, msg}` for a request it rejected (422). */
function describeDetail(detail: unknown): string {
  if (typeof detail === 'string') return detail;
  if (!Array.isArray(detail)) return '';
  return detail
    .map((item) => {
      if (!isObject(item)) return String(item);
      const loc = Array.isArray(item.loc) ? item.loc.join('.') : '';
      const msg = typeof item.msg === 'string' ? item.msg : JSON.stringify(item);
      return loc ? `${loc}: ${msg}` : msg;
    })
    .join('; ');
}

function parseInfo(info: unknown): Txt2ImgInfo {
  if (isObject(info)) return info;
  if (typeof info !== 'string') return {};
  try {
    const parsed = JSON.parse(info) as unknown;
    return isObject(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function finite(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && error.name === 'TimeoutError';
}

/** undici reports `fetch failed` with the socket error as its `cause`. */
function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as Error & { code?: unknown }).code;
    if (typeof code === 'string') return code;
    if (e instanceof AggregateError) {
      const inner = e.errors.find((x: unknown) => x instanceof Error);
      if (inner) return errorCode(inner);
    }
  }
  return undefined;
}

function causeMessage(error: unknown): string {
  let e: unknown = error;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message || e.name : String(e);
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}
