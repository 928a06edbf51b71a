import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { solidPng } from './png.js';

/**
 * A fake Stable Diffusion WebUI (AUTOMATIC1111 / Forge API) on 127.0.0.1, speaking the real
 * protocol over real HTTP: txt2img takes `steps × stepDelayMs` per batch and returns real PNGs,
 * progress moves while it runs, interrupt ends the job early and the images made so far come back.
 * Like the real one it generates one request at a time (its queue lock).
 *
 * Test controls: `stepDelayMs`, `script(n, …)` for the n-th txt2img call (its own delay, an HTTP
 * failure, or dying mid-request), every request recorded, interrupts counted, `busy`.
 */

export interface RecordedRequest {
  method: string;
  path: string;
  body: unknown;
}

export interface Txt2ImgScript {
  stepDelayMs?: number;
  /** Answer with this status and JSON body, after `afterSteps` sampling steps (default 0). */
  fail?: { status: number; body: unknown; afterSteps?: number };
  /** Close the server and destroy every socket after this many sampling steps. */
  dieAfterSteps?: number;
}

export interface FakeSdWebuiOptions {
  stepDelayMs?: number;
  /** Like the WebUI's "return grid" option: a grid image first, `index_of_first_image: 1`. */
  returnGrid?: boolean;
  /** Pixel size of the returned images (the real ones are width×height; small is enough here). */
  imageSize?: number;
}

export const OUT_OF_MEMORY_BODY = {
  error: 'OutOfMemoryError',
  detail: '',
  body: '',
  errors:
    'CUDA out of memory. Tried to allocate 2.50 GiB (GPU 0; 8.00 GiB total capacity; 5.12 GiB already allocated)',
};

export const SAMPLERS = [
  'Euler a',
  'Euler',
  'DPM++ 2M',
  'DPM++ SDE',
  'DPM++ 2M SDE',
  'DDIM',
  'UniPC',
];
export const MODELS = [
  'anything-v5.safetensors [7f96a1a9ca]',
  'sd_xl_base_1.0.safetensors [31e35c80fc]',
];

export const VAES = ['kl-f8-anime2.ckpt', 'vae-ft-mse-840000-ema-pruned.safetensors'];
export const UPSCALERS = ['None', 'Lanczos', 'Nearest', 'R-ESRGAN 4x+', 'R-ESRGAN 4x+ Anime6B'];
export const LATENT_UPSCALE_MODES = ['Latent', 'Latent (antialiased)', 'Latent (bicubic)'];
export const LORAS = ['add_detail', 'cyberpunk_style', 'style', 'detail'];
/** The colour of the live preview image (`current_image`) while a job samples. */
export const PREVIEW_RGB: readonly [number, number, number] = [10, 200, 30];

interface JobState {
  job: string;
  job_count: number;
  job_no: number;
  job_timestamp: string;
  sampling_step: number;
  sampling_steps: number;
  interrupted: boolean;
  skipped: boolean;
}

const IDLE: JobState = {
  job: '',
  job_count: 0,
  job_no: 0,
  job_timestamp: '0',
  sampling_step: 0,
  sampling_steps: 0,
  interrupted: false,
  skipped: false,
};

export class FakeSdWebui {
  readonly requests: RecordedRequest[] = [];
  /** Progress answers that carried a preview image. */
  previewsServed = 0;
  stepDelayMs: number;
  returnGrid: boolean;
  interrupts = 0;
  /** Interrupts that arrived while a job was running (the others change nothing). */
  effectiveInterrupts = 0;
  dead = false;

  private readonly events = new EventEmitter();
  private readonly scripts = new Map<number, Txt2ImgScript>();
  private readonly imageSize: number;
  private state: JobState = { ...IDLE };
  private startedAt = 0;
  private calls = 0;
  private stepsOfCall = new Map<number, number>();
  private queue: Promise<void> = Promise.resolve();
  private jobActive = false;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    options: FakeSdWebuiOptions,
  ) {
    this.stepDelayMs = options.stepDelayMs ?? 5;
    this.returnGrid = options.returnGrid ?? false;
    this.imageSize = options.imageSize ?? 8;
    this.events.setMaxListeners(100);
  }

  static async start(options: FakeSdWebuiOptions = {}): Promise<FakeSdWebui> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const fake = new FakeSdWebui(server, `http://127.0.0.1:${port}`, options);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      fake.handle(req, res).catch(() => res.destroy());
    });
    return fake;
  }

  /** A URL nothing listens on: a port that was just bound and released. */
  static async unusedUrl(): Promise<string> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return `http://127.0.0.1:${port}`;
  }

  /** Behaviour of the n-th txt2img call (1-based, counted in arrival order). */
  script(call: number, script: Txt2ImgScript): void {
    this.scripts.set(call, script);
  }

  get txt2imgBodies(): Record<string, unknown>[] {
    return this.requests
      .filter((r) => r.path === '/sdapi/v1/txt2img')
      .map((r) => r.body as Record<string, unknown>);
  }

  /** True while a txt2img job is generating. */
  get busy(): boolean {
    return this.jobActive;
  }

  /** Resolves once the n-th txt2img call has done at least `steps` sampling steps. */
  async waitForCall(call: number, steps = 1): Promise<void> {
    while ((this.stepsOfCall.get(call) ?? 0) < steps) await once(this.events, 'step');
  }

  async close(): Promise<void> {
    this.dead = true;
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** The WebUI process dies: listening stops and every open connection is cut. */
  private die(): void {
    this.dead = true;
    this.server.close();
    this.server.closeAllConnections();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://fake');
    let body: unknown = null;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw) as unknown;
      } catch {
        this.requests.push({ method: req.method ?? '', path: url.pathname, body: raw });
        return send(res, 422, {
          detail: [{ loc: ['body', 0], msg: 'Expecting value', type: 'value_error.jsondecode' }],
        });
      }
    }
    this.requests.push({ method: req.method ?? '', path: url.pathname, body });
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case 'POST /sdapi/v1/txt2img':
        return this.txt2img(body, res);
      case 'GET /sdapi/v1/progress':
        return send(
          res,
          200,
          this.progress(url.searchParams.get('skip_current_image') === 'false'),
        );
      case 'GET /sdapi/v1/sd-vae':
        return send(
          res,
          200,
          VAES.map((model_name) => ({ model_name, filename: `/models/VAE/${model_name}` })),
        );
      case 'GET /sdapi/v1/upscalers':
        return send(
          res,
          200,
          UPSCALERS.map((name) => ({ name, model_name: null, model_path: null, scale: 4 })),
        );
      case 'GET /sdapi/v1/latent-upscale-modes':
        return send(
          res,
          200,
          LATENT_UPSCALE_MODES.map((name) => ({ name })),
        );
      case 'GET /sdapi/v1/loras':
        return send(
          res,
          200,
          LORAS.map((name) => ({ name, alias: name, path: `/models/Lora/${name}.safetensors` })),
        );
      case 'POST /sdapi/v1/interrupt':
        this.interrupts++;
        if (this.jobActive) {
          this.effectiveInterrupts++;
          this.state.interrupted = true;
        }
        this.events.emit('interrupt');
        return send(res, 200, {});
      case 'GET /sdapi/v1/options':
        return send(res, 200, {
          sd_model_checkpoint: MODELS[0],
          sd_vae: 'Automatic',
          CLIP_stop_at_last_layers: 1,
          samples_format: 'png',
          return_grid: this.returnGrid,
        });
      case 'GET /sdapi/v1/sd-models':
        return send(
          res,
          200,
          MODELS.map((title) => ({
            title,
            model_name: title.split('.')[0],
            hash: title.slice(-11, -1),
          })),
        );
      case 'GET /sdapi/v1/samplers':
        return send(
          res,
          200,
          SAMPLERS.map((name) => ({ name, aliases: [], options: {} })),
        );
      default:
        return send(res, 404, { detail: 'Not Found' });
    }
  }

  private progress(withImage: boolean): unknown {
    const s = this.state;
    if (!this.jobActive || s.job_count === 0) {
      return { progress: 0, eta_relative: 0, state: { ...s }, current_image: null, textinfo: null };
    }
    this.previewsServed += withImage ? 1 : 0;
    // The WebUI's own formula (modules/api/api.py progressapi).
    let progress = 0.01 + s.job_no / s.job_count;
    if (s.sampling_steps > 0) progress += ((1 / s.job_count) * s.sampling_step) / s.sampling_steps;
    const elapsed = (Date.now() - this.startedAt) / 1000;
    const eta = elapsed / progress - elapsed;
    return {
      progress: Math.min(progress, 1),
      eta_relative: eta,
      state: { ...s },
      current_image: withImage ? previewPng().toString('base64') : null,
      textinfo: null,
    };
  }

  private async txt2img(body: unknown, res: ServerResponse): Promise<void> {
    const call = ++this.calls;
    const script = this.scripts.get(call) ?? {};
    const request = (typeof body === 'object' && body !== null ? body : {}) as Record<
      string,
      unknown
    >;
    const sampler = typeof request.sampler_name === 'string' ? request.sampler_name : 'Euler';
    if (!SAMPLERS.includes(sampler)) {
      return send(res, 404, {
        error: 'HTTPException',
        detail: 'Sampler not found',
        body: '',
        errors: '',
      });
    }

    // The queue lock: one generation at a time, in arrival order.
    const previous = this.queue;
    let release!: () => void;
    this.queue = new Promise((resolve) => (release = resolve));
    await previous;
    try {
      await this.generate(call, request, script, res);
    } finally {
      this.jobActive = false;
      this.state = { ...IDLE };
      release();
    }
  }

  private async generate(
    call: number,
    request: Record<string, unknown>,
    script: Txt2ImgScript,
    res: ServerResponse,
  ): Promise<void> {
    if (this.dead) return;
    const int = (key: string, fallback: number): number =>
      typeof request[key] === 'number' ? (request[key] as number) : fallback;
    const steps = int('steps', 20);
    const batchSize = int('batch_size', 1);
    const nIter = int('n_iter', 1);
    const hiresSteps = request.enable_hr === true ? int('hr_second_pass_steps', 0) || steps : 0;
    const delay = script.stepDelayMs ?? this.stepDelayMs;

    this.jobActive = true;
    this.startedAt = Date.now();
    this.state = {
      ...IDLE,
      job: 'scripts_txt2img',
      job_count: nIter,
      job_timestamp: new Date().toISOString().replace(/\D/g, '').slice(0, 14),
    };
    this.stepsOfCall.set(call, 0);

    let stepsDone = 0;
    let batchesMade = 0;
    batches: for (let job = 0; job < nIter; job++) {
      this.state.job_no = job;
      this.state.job = `Batch ${job + 1} out of ${nIter}`;
      // The hires pass restarts the step counter, so the WebUI's progress drops back within a job.
      for (const passSteps of hiresSteps > 0 ? [steps, hiresSteps] : [steps]) {
        this.state.sampling_steps = passSteps;
        this.state.sampling_step = 0;
        for (let step = 1; step <= passSteps; step++) {
          if (this.state.interrupted) {
            batchesMade++; // the interrupted batch is still decoded and returned
            break batches;
          }
          await sleep(delay);
          if (this.dead) return;
          this.state.sampling_step = step;
          stepsDone++;
          this.stepsOfCall.set(call, stepsDone);
          this.events.emit('step');
          if (script.dieAfterSteps !== undefined && stepsDone >= script.dieAfterSteps) {
            this.die();
            return;
          }
          if (script.fail && stepsDone >= (script.fail.afterSteps ?? 0)) {
            return send(res, script.fail.status, script.fail.body);
          }
        }
      }
      batchesMade++;
    }
    if (script.fail) return send(res, script.fail.status, script.fail.body);
    send(res, 200, this.result(request, batchSize, nIter, batchesMade));
  }

  private result(
    request: Record<string, unknown>,
    batchSize: number,
    nIter: number,
    batches: number,
  ): unknown {
    const total = batchSize * nIter;
    const requestedSeed = typeof request.seed === 'number' ? request.seed : -1;
    const seed = requestedSeed === -1 ? Math.floor(Math.random() * 2 ** 31) : requestedSeed;
    const allSeeds = Array.from({ length: total }, (_, i) => seed + i);
    const prompt = typeof request.prompt === 'string' ? request.prompt : '';
    const negative = typeof request.negative_prompt === 'string' ? request.negative_prompt : '';
    const overrides = (request.override_settings ?? {}) as Record<string, unknown>;
    const model =
      typeof overrides.sd_model_checkpoint === 'string' ? overrides.sd_model_checkpoint : MODELS[0];
    const infotext = (s: number): string =>
      `${prompt}\nNegative prompt: ${negative}\nSteps: ${String(request.steps)}, Sampler: ${String(
        request.sampler_name,
      )}, CFG scale: ${String(request.cfg_scale)}, Seed: ${s}, Size: ${String(request.width)}x${String(
        request.height,
      )}, Model: ${String(model)}`;

    const made = allSeeds.slice(0, batches * batchSize);
    const images = made.map((s) =>
      solidPng(this.imageSize, this.imageSize, [s % 256, (s >> 8) % 256, 128], {
        parameters: infotext(s),
      }).toString('base64'),
    );
    const infotexts = made.map(infotext);
    const withGrid = this.returnGrid && made.length > 1;
    if (withGrid) {
      images.unshift(
        solidPng(this.imageSize * 2, this.imageSize * 2, [0, 0, 0]).toString('base64'),
      );
      infotexts.unshift(infotext(seed));
    }
    const info = {
      prompt,
      all_prompts: allSeeds.map(() => prompt),
      negative_prompt: negative,
      seed,
      all_seeds: allSeeds,
      subseed: 1000,
      all_subseeds: allSeeds.map((_, i) => 1000 + i),
      width: request.width,
      height: request.height,
      sampler_name: request.sampler_name,
      cfg_scale: request.cfg_scale,
      steps: request.steps,
      batch_size: batchSize,
      sd_model_name: String(model).split('.')[0],
      sd_model_hash: '7f96a1a9ca',
      sd_vae_name: null,
      index_of_first_image: withGrid ? 1 : 0,
      infotexts,
      job_timestamp: this.state.job_timestamp,
      version: 'fake-1.0',
    };
    return { images, parameters: request, info: JSON.stringify(info) };
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed || res.writableEnded) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** The live preview the fake sends while sampling: a 4×4 PNG of PREVIEW_RGB. */
export function previewPng(): Buffer {
  return solidPng(4, 4, PREVIEW_RGB);
}
