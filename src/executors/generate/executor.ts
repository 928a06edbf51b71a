/**
 * The `generate` executor: txt2img on a Stable Diffusion WebUI, `loop_count` requests one after
 * another, every image saved with a JSON sidecar as soon as its request returns.
 *
 * Stopping: the task's AbortSignal aborts the in-flight request and sends `/sdapi/v1/interrupt` —
 * only while this task's own request is in flight, because the interrupt stops whatever the WebUI
 * is generating (the original implementation interrupted another task's images this way). `run` returns only after the
 * interrupt was answered, so the next task of the lane cannot post its request first and be the
 * one interrupted.
 */
import { readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, TailorError } from '../../domain/errors.js';
import type { JsonValue } from '../../domain/task.js';
import {
  ExecutorFailure,
  type ExecutorContext,
  type ExecutorDefinition,
  type HttpClient,
} from '../../scheduler/executor.js';
import { GenerateTaskConfigSchema, type GenerateTaskConfig } from './config-schema.js';
import { EXTENSION, decodeBase64Image, detectImageFormat, writeFileAtomically } from './images.js';
import { CatalogCache, refuseUnknownNames, unknownNames } from './catalog.js';
import type { Previews } from './previews.js';
import { GenerationProgress } from './progress.js';
import { buildTxt2ImgRequest } from './request.js';
import {
  WebuiClient,
  WebuiError,
  type Txt2ImgRequest,
  type Txt2ImgResponse,
  type WebuiProgress,
} from './webui-client.js';

export interface GenerateExecutorOptions {
  /** `SD_WEBUI_URL`, e.g. `http://127.0.0.1:7860`. */
  webuiUrl: string;
  /** Defaults to the scheduler's shared client (`ctx.http`, `deps.http`). */
  http?: HttpClient;
  /** How often `/sdapi/v1/progress` is polled while a request runs. */
  progressPollMs?: number;
  /** Longest one txt2img request may take (a large hires batch takes minutes). */
  generationTimeoutMs?: number;
  /** Probe, progress and interrupt calls. */
  requestTimeoutMs?: number;
  /** Where live previews go; none are fetched without it. */
  previews?: Previews;
  /** The WebUI's name lists (checked at creation); a fresh cache per executor without it. */
  catalog?: CatalogCache;
}

export type GeneratedImage = {
  /** Relative to `output_dir`. */
  file: string;
  seed: number | null;
  /** JSON sidecar, relative to `output_dir`. */
  sidecar: string;
  loop: number;
};

/** The task's `result` (type aliases, not interfaces, so they stay assignable to JSON values). */
export type GenerateResult = {
  /** One line for the task's final message. */
  summary: string;
  images: GeneratedImage[];
  count: number;
  loops_completed: number;
  output_dir: string;
};

const DEFAULTS = {
  progressPollMs: 500,
  generationTimeoutMs: 30 * 60_000,
  requestTimeoutMs: 10_000,
};

/** The registry validates every config against `GenerateTaskConfigSchema` (defaults applied). */
export function createGenerateExecutor(
  options: GenerateExecutorOptions,
): ExecutorDefinition<GenerateTaskConfig> {
  const settings = { ...DEFAULTS, ...definedOnly(options) };
  const catalog = options.catalog ?? new CatalogCache();
  const clientFor = (http: HttpClient): WebuiClient =>
    new WebuiClient({ url: options.webuiUrl, http: options.http ?? http });

  return {
    type: 'generate',
    description: 'Generate images with Stable Diffusion WebUI (txt2img)',
    schema: GenerateTaskConfigSchema,
    async precheck(config, deps) {
      const client = clientFor(deps.http);
      try {
        await client.probe({ timeoutMs: settings.requestTimeoutMs });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        const message =
          error instanceof WebuiError && error.kind === 'unreachable'
            ? error.message
            : `SD WebUI unreachable at ${client.url}: ${reason}`;
        throw new TailorError(ErrorCode.DEPENDENCY_UNAVAILABLE, message, {
          url: client.url,
          reason,
        });
      }
      const offered = await catalog.get(client, settings.requestTimeoutMs).catch(() => null);
      // The WebUI answered the probe; should its lists fail, the names are left to the run.
      if (offered) refuseUnknownNames(unknownNames(config, offered, client.url));
    },
    run: (ctx) =>
      new Generation(ctx, clientFor(ctx.http), settings, options.previews ?? null).run(),
  };
}

class Generation {
  private readonly config: GenerateTaskConfig;
  private readonly progress: GenerationProgress;
  private readonly saved: GeneratedImage[] = [];
  private prefix = '';
  private loopsCompleted = 0;

  constructor(
    private readonly ctx: ExecutorContext<GenerateTaskConfig>,
    private readonly client: WebuiClient,
    private readonly settings: typeof DEFAULTS,
    private readonly previews: Previews | null,
  ) {
    this.config = ctx.config;
    this.progress = new GenerationProgress(this.config.loop_count);
  }

  async run(): Promise<GenerateResult> {
    const { ctx, config } = this;
    const loops = config.loop_count;
    const perLoop = config.batch_size * config.batch_count;
    this.prefix = await runPrefix(ctx.outputDir);
    ctx.log(
      'info',
      `generating ${loops} loop(s) × ${perLoop} image(s) at ${config.width}×${config.height}, ` +
        `${config.steps} steps, ${config.sampler}${config.enable_hr ? `, hires ×${config.hr_scale}` : ''} ` +
        `on ${this.client.url}`,
    );

    for (let loop = 0; loop < loops && !ctx.signal.aborted; loop++) {
      this.progress.startLoop(loop);
      ctx.progress(this.progress.percent, `${this.progress.describe()} · waiting for SD WebUI`);
      const request = buildTxt2ImgRequest(config, loop);
      if (loop === 0) ctx.log('info', `prompt: ${request.prompt}`);

      let response: Txt2ImgResponse;
      try {
        response = await this.generate(request);
      } catch (error) {
        if (ctx.signal.aborted) break;
        throw this.loopFailed(loop, error);
      }
      try {
        await this.save(response, request, loop);
      } catch (error) {
        throw this.loopFailed(loop, error);
      }
      this.loopsCompleted++;
      this.progress.finishLoop();
      ctx.progress(
        this.progress.percent,
        `${this.progress.describe()} · saved ${this.saved.length} image(s)`,
      );
    }

    if (ctx.signal.aborted) {
      ctx.log(
        'info',
        `stopped after ${this.loopsCompleted} of ${loops} loop(s); ${this.describeKept()}`,
      );
    } else {
      ctx.progress(100, `done: ${this.saved.length} image(s)`);
      ctx.log(
        'info',
        `done: ${this.saved.length} image(s) from ${loops} loop(s) in ${ctx.outputDir}`,
      );
    }
    return this.result();
  }

  /** One txt2img request, with progress polled beside it and an interrupt if the task is stopped. */
  private async generate(request: Txt2ImgRequest): Promise<Txt2ImgResponse> {
    const { ctx } = this;
    let interrupting: Promise<void> | null = null;
    const interrupt = (): void => {
      interrupting = this.client.interrupt({ timeoutMs: this.settings.requestTimeoutMs }).then(
        () => ctx.log('info', 'asked SD WebUI to interrupt the generation of this task'),
        (error: unknown) => ctx.log('warn', `could not interrupt SD WebUI: ${messageOf(error)}`),
      );
    };
    // Attached only for the lifetime of this request: a stop after it returned must not interrupt
    // a generation that belongs to someone else.
    ctx.signal.addEventListener('abort', interrupt, { once: true });
    const poller = this.pollProgress();
    try {
      return await this.client.txt2img(request, {
        signal: ctx.signal,
        timeoutMs: this.settings.generationTimeoutMs,
      });
    } finally {
      ctx.signal.removeEventListener('abort', interrupt);
      await poller.stop();
      if (interrupting) await interrupting;
    }
  }

  private pollProgress(): { stop(): Promise<void> } {
    const { ctx } = this;
    const stopper = new AbortController();
    const signal = AbortSignal.any([stopper.signal, ctx.signal]);
    const loop = async (): Promise<void> => {
      let warned = false;
      while (!signal.aborted) {
        try {
          await sleep(this.settings.progressPollMs, undefined, { signal });
          const withImage = this.previews?.due(ctx.task.id) ?? false;
          const sample = await this.client.progress({
            signal,
            timeoutMs: this.settings.requestTimeoutMs,
            withImage,
          });
          if (withImage && sample.current_image && !signal.aborted)
            this.previews?.put(ctx.task.id, sample.current_image);
          this.report(sample);
        } catch (error) {
          if (signal.aborted) return;
          // Progress is cosmetic; the txt2img request itself decides whether the loop failed.
          if (!warned) ctx.log('warn', `SD WebUI progress unavailable: ${messageOf(error)}`);
          warned = true;
        }
      }
    };
    const done = loop();
    return {
      stop: async () => {
        stopper.abort();
        await done;
        this.previews?.drop(ctx.task.id);
      },
    };
  }

  private report(sample: WebuiProgress): void {
    const newBatch = this.progress.observe(sample);
    const message = this.progress.describe(sample);
    this.ctx.progress(this.progress.percent, message);
    if (newBatch && sample.state.job_count > 1) this.ctx.log('debug', message);
  }

  private async save(
    response: Txt2ImgResponse,
    request: Txt2ImgRequest,
    loop: number,
  ): Promise<void> {
    const { ctx } = this;
    const { info } = response;
    const expected = request.batch_size * request.n_iter;
    // With the WebUI's "return grid" option the grid image comes first; only the images are kept.
    const first = response.images.length > expected ? integerOr(info.index_of_first_image, 0) : 0;
    const images = response.images.slice(first);
    if (images.length < expected) {
      ctx.log(
        'warn',
        `loop ${loop + 1}: SD WebUI returned ${images.length} of ${expected} images (interrupted?)`,
      );
    }
    const dir = ctx.outputDir;
    const loopName = `${this.prefix}loop${pad(loop + 1, 2)}`;
    for (const [index, encoded] of images.entries()) {
      const bytes = decodeBase64Image(encoded);
      const format = detectImageFormat(bytes);
      if (!format)
        ctx.log('warn', `loop ${loop + 1} image ${index}: unknown image format; saved as .bin`);
      const stem = `${loopName}_${pad(index, 3)}`;
      const file = `${stem}.${format ? EXTENSION[format] : 'bin'}`;
      const sidecar = `${stem}.json`;
      const seed =
        seedOf(info.all_seeds, index) ?? (request.seed === -1 ? null : request.seed + index);
      const infotexts = Array.isArray(info.infotexts) ? info.infotexts : [];
      const infotext = infotexts[index + first];
      await writeFileAtomically(dir, file, bytes);
      await writeFileAtomically(
        dir,
        sidecar,
        `${JSON.stringify(
          {
            file,
            format,
            task_id: ctx.task.id,
            attempt: ctx.task.attempts,
            loop: loop + 1,
            index,
            seed,
            subseed: seedOf(info.all_subseeds, index),
            infotext: typeof infotext === 'string' ? infotext : null,
            model: typeof info.sd_model_name === 'string' ? info.sd_model_name : null,
            model_hash: typeof info.sd_model_hash === 'string' ? info.sd_model_hash : null,
            vae: typeof info.sd_vae_name === 'string' ? info.sd_vae_name : null,
            config_id: this.config.config_id ?? null,
            config_name: this.config.config_name ?? null,
            parameters: request,
            created_at: new Date().toISOString(),
          },
          null,
          2,
        )}\n`,
      );
      this.saved.push({ file, seed, sidecar, loop: loop + 1 });
    }
    ctx.log('info', `loop ${loop + 1}/${this.config.loop_count}: saved ${images.length} image(s)`);
  }

  /** Log what survives, and fail with it as the task's partial result. */
  private loopFailed(loop: number, error: unknown): Error {
    const loops = this.config.loop_count;
    this.ctx.log('warn', `loop ${loop + 1} of ${loops} failed; ${this.describeKept()}`);
    const kept = this.saved.length;
    const keptNote = kept > 0 ? `; ${kept} image(s) from earlier loops were kept` : '';
    return new ExecutorFailure(
      `loop ${loop + 1} of ${loops} failed: ${messageOf(error)}${keptNote}`,
      this.result() as unknown as JsonValue,
      { cause: error },
    );
  }

  private describeKept(): string {
    if (this.saved.length === 0) return 'no images were saved';
    const names = this.saved.slice(0, 20).map((image) => image.file);
    const more =
      this.saved.length > names.length ? `, … (${this.saved.length - names.length} more)` : '';
    return `kept ${this.saved.length} image(s) in ${this.ctx.outputDir}: ${names.join(', ')}${more}`;
  }

  private result(): GenerateResult {
    return {
      summary: `${this.saved.length} image(s) from ${this.loopsCompleted} loop(s)`,
      images: this.saved,
      count: this.saved.length,
      loops_completed: this.loopsCompleted,
      output_dir: this.ctx.outputDir,
    };
  }
}

/**
 * A re-run (or a recovered attempt) finds the images of earlier runs in the task's folder and
 * writes beside them as `run2_…`, `run3_…` instead of over them.
 */
async function runPrefix(dir: string): Promise<string> {
  const names = await readdir(dir);
  if (names.length === 0) return '';
  for (let run = 2; ; run++) {
    const prefix = `run${run}_`;
    if (!names.some((name) => name.startsWith(prefix))) return prefix;
  }
}

function seedOf(seeds: unknown, index: number): number | null {
  const value: unknown = Array.isArray(seeds) ? seeds[index] : undefined;
  return typeof value === 'number' && Number.isInteger(value) ? value : null;
}

function integerOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : fallback;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message || error.name : String(error);
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
