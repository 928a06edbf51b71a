/**
 * The `tag` executor: captions for every image of the input folders, from a local WD14 model or
 * the WebUI tagger extension.
 *
 * Paths: input and output folders are confined when the task is created (403 and no task) and
 * again when it runs, since a symlink can change in between. Resuming: captions that exist are
 * kept unless `overwrite`, so a stopped task that is started again continues where it stopped.
 * Stopping takes effect between images; an in-flight WebUI request is aborted.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, TailorError, taskNotFound } from '../../domain/errors.js';
import { isTaskId } from '../../domain/task.js';
import type { ExecutorContext, HttpClient } from '../../scheduler/executor.js';
import type { TaskService } from '../../scheduler/tasks.js';
import { confineUserPath, type PathRoots } from '../paths.js';
import {
  CSV_NAME,
  CsvCaptions,
  displayPath,
  exists,
  planCaptionFiles,
  writeAtomically,
  type CaptionTarget,
} from './captions.js';
import { listImages, type SourceImage } from './images.js';
import type { Prediction } from './labels.js';
import type { TagConfig } from './schema.js';
import { selectTags, type Selection } from './select.js';
import { DEFAULT_WEBUI_TAGGER, WebuiTagger, WebuiTaggerError } from './webui.js';
import { predictionOf } from './wd14/labels.js';
import type { Wd14Models } from './wd14/model.js';
import { scoreImages } from './wd14/pipeline.js';

export interface TagServices {
  roots: PathRoots;
  tasks: Pick<TaskService, 'get' | 'outputDirOf'>;
  models: Wd14Models;
  /** TAILOR_WD14_MODEL */
  defaultModel: string | null;
  webuiUrl: string;
  http: HttpClient;
}

/** The task's `result` (a type alias so it stays assignable to a JSON value). */
export type TagResult = {
  /** One line for the task's final message. */
  summary: string;
  images: number;
  tagged: number;
  skipped_existing: number;
  unreadable: number;
  /** The first 100 unreadable files, relative to their input folder. */
  unreadable_files: string[];
  collisions: number;
  analyzer: string;
  model: string;
  /** wd14: whether the model was loaded for this task or reused from an earlier one. */
  model_cache: 'loaded' | 'reused' | null;
  save_type: string;
  /** Where the captions went: `output_dir`, or null when they sit beside the images. */
  output_dir: string | null;
  /** `tags.csv` in the task's folder (csv), else null. */
  csv: string | null;
  input_dirs: string[];
  stopped: boolean;
};

const WEBUI_TIMEOUT_MS = 120_000;

/** The folders a config names, resolved and confined (403), and a named task's folder (404). */
export async function resolveFolders(
  config: Pick<TagConfig, 'input_dir' | 'input_task_id' | 'output_dir'>,
  services: Pick<TagServices, 'roots' | 'tasks'>,
): Promise<{ inputs: { given: string; path: string }[]; output: string | null }> {
  const given =
    config.input_dir === undefined
      ? []
      : Array.isArray(config.input_dir)
        ? config.input_dir
        : [config.input_dir];
  const inputs: { given: string; path: string }[] = [];
  for (const dir of given) {
    inputs.push({ given: dir, path: await confineUserPath(dir, services.roots, 'input_dir') });
  }
  if (config.input_task_id !== undefined) {
    const id = config.input_task_id;
    if (!isTaskId(id) || !(await services.tasks.get(id))) throw taskNotFound(id);
    inputs.push({ given: `task ${id}`, path: services.tasks.outputDirOf(id) });
  }
  if (inputs.length === 0) {
    throw new TailorError(ErrorCode.VALIDATION, 'give input_dir or input_task_id', {
      field: '/input_dir',
    });
  }
  const output =
    config.output_dir === undefined
      ? null
      : await confineUserPath(config.output_dir, services.roots, 'output_dir');
  return { inputs, output };
}

/** One image through the WebUI tagger, with the task's thresholds applied. */
export async function interrogateWebui(
  tagger: WebuiTagger,
  image: Uint8Array,
  config: Pick<TagConfig, 'model' | 'threshold'>,
  signal?: AbortSignal,
): Promise<Prediction> {
  return tagger.interrogate(image, config.model ?? DEFAULT_WEBUI_TAGGER, config.threshold, {
    timeoutMs: WEBUI_TIMEOUT_MS,
    ...(signal ? { signal } : {}),
  });
}

export class TagRun {
  private readonly config: TagConfig;
  private images = 0;
  private tagged = 0;
  private skipped = 0;
  private done = 0;
  private readonly unreadable: string[] = [];
  private collisions = 0;
  private modelName: string;
  private modelCache: TagResult['model_cache'] = null;
  private output: string | null = null;
  private inputs: { given: string; path: string }[] = [];
  private csv: CsvCaptions | null = null;
  /** Caption folders that exist by now. */
  private readonly folders = new Set<string>();

  constructor(
    private readonly ctx: ExecutorContext<TagConfig>,
    private readonly services: TagServices,
  ) {
    this.config = ctx.config;
    this.modelName = ctx.config.model ?? '';
  }

  async run(): Promise<TagResult> {
    const { ctx, config } = this;
    const folders = await resolveFolders(config, this.services);
    this.inputs = folders.inputs;
    this.output = folders.output;

    const images: SourceImage[] = [];
    for (const [index, input] of this.inputs.entries()) {
      try {
        images.push(
          ...(await listImages(input.path, index, {
            recursive: config.recursive,
            roots: this.services.roots,
            warn: (message) => ctx.log('warn', `${input.given}: ${message}`),
          })),
        );
      } catch (error) {
        throw new Error(`cannot read input folder ${input.given}: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
    const selected = config.limit === undefined ? images : images.slice(0, config.limit);
    this.images = selected.length;
    const targets = await this.plan(selected);
    const todo: CaptionTarget[] = [];
    for (const target of targets) {
      if (!config.overwrite && (await this.captioned(target))) this.skipped++;
      else todo.push(target);
    }
    this.done = this.skipped;
    ctx.log(
      'info',
      `${this.images} image(s) in ${this.inputs.map((i) => i.given).join(', ')}; ` +
        `${todo.length} to tag, ${this.skipped} already captioned` +
        (config.overwrite ? '' : ' (kept; overwrite: true replaces them)'),
    );
    this.report();

    try {
      if (todo.length > 0) {
        if (config.analyzer === 'webui') await this.runWebui(todo);
        else await this.runWd14(todo);
      }
    } finally {
      // A stopped or failed run keeps the rows it has: the next attempt skips them.
      if (this.csv && this.csv.size > 0) await this.csv.save();
    }
    const result = this.result();
    if (ctx.signal.aborted) {
      ctx.log('info', `stopped after ${this.tagged} caption(s); a re-run continues from there`);
    } else {
      ctx.progress(100, this.summary());
      ctx.log('info', `done: ${this.summary()}`);
    }
    return result;
  }

  private async plan(images: SourceImage[]): Promise<CaptionTarget[]> {
    const { config, ctx } = this;
    if (config.save_type === 'csv') {
      this.csv = new CsvCaptions(join(ctx.outputDir, CSV_NAME));
      if (!config.overwrite) await this.csv.load();
      const several = this.inputs.length > 1;
      return images.map((image) => ({
        image,
        // With several input folders a relative path alone could name two images.
        target: several
          ? `${this.inputs[image.input]!.given.replace(/\/+$/, '')}/${displayPath(image)}`
          : displayPath(image),
      }));
    }
    const plan = planCaptionFiles(images, config.save_type, this.output);
    this.collisions = plan.collisions.length;
    for (const line of plan.collisions) ctx.log('warn', line);
    return plan.targets;
  }

  private async captioned(target: CaptionTarget): Promise<boolean> {
    return this.csv ? this.csv.has(target.target) : exists(target.target);
  }

  private async runWd14(todo: CaptionTarget[]): Promise<void> {
    const { ctx, config, services } = this;
    this.modelName = await services.models.resolve(config.model, services.defaultModel);
    const lease = await services.models.acquire(this.modelName);
    this.modelCache = lease.reused ? 'reused' : 'loaded';
    try {
      const { model } = lease;
      ctx.log(
        'info',
        `${lease.reused ? 'using the loaded' : 'loaded'} WD14 model ${model.name} ` +
          `(${model.size}×${model.size}, ${model.labels.length} tags` +
          `${model.fixedBatch ? `, batch fixed at ${model.fixedBatch}` : `, batches of ${config.batch_size}`})`,
      );
      for await (const batch of scoreImages(model, todo, (t) => t.image.path, {
        batchSize: config.batch_size,
        signal: ctx.signal,
      })) {
        for (const scored of batch) {
          if ('error' in scored) this.markUnreadable(scored.item, scored.error);
          else await this.write(scored.item, predictionOf(model.labels, scored.scores));
        }
      }
    } finally {
      lease.release();
    }
  }

  private async runWebui(todo: CaptionTarget[]): Promise<void> {
    const { ctx, config } = this;
    const tagger = new WebuiTagger(this.services.webuiUrl, ctx.http);
    this.modelName = config.model ?? DEFAULT_WEBUI_TAGGER;
    ctx.log('info', `tagging with the WebUI tagger ${this.modelName} at ${tagger.url}`);
    for (const target of todo) {
      if (ctx.signal.aborted) return;
      let bytes: Buffer;
      try {
        bytes = await readFile(target.image.path);
      } catch (error) {
        this.markUnreadable(target, (error as Error).message);
        continue;
      }
      let prediction: Prediction;
      try {
        prediction = await interrogateWebui(tagger, bytes, config, ctx.signal);
      } catch (error) {
        if (ctx.signal.aborted) return;
        // An image the tagger refuses is skipped; a tagger that cannot be reached ends the run.
        if (error instanceof WebuiTaggerError && error.kind !== 'unreachable') {
          this.markUnreadable(target, error.message);
          continue;
        }
        throw error;
      }
      await this.write(target, prediction);
    }
  }

  private async write(target: CaptionTarget, prediction: Prediction): Promise<void> {
    const { config } = this;
    const selection = selectTags(prediction, config);
    if (this.csv) this.csv.set(target.target, selection.caption);
    else if (config.save_type === 'json') {
      await writeAtomically(
        target.target,
        `${JSON.stringify(this.jsonOf(target, selection), null, 2)}\n`,
        this.folders,
      );
    } else await writeAtomically(target.target, `${selection.caption}\n`, this.folders);
    this.tagged++;
    this.done++;
    this.report(displayPath(target.image));
  }

  private jsonOf(target: CaptionTarget, selection: Selection) {
    return {
      image: displayPath(target.image),
      analyzer: this.config.analyzer,
      model: this.modelName,
      caption: selection.caption,
      tags: selection.tags.map((t) => ({
        name: t.name,
        score: round(t.score),
        category: t.category,
      })),
      rating: Object.fromEntries(
        Object.entries(selection.rating).map(([name, score]) => [name, round(score)]),
      ),
      thresholds: selection.thresholds,
    };
  }

  private markUnreadable(target: CaptionTarget, reason: string): void {
    const name = displayPath(target.image);
    this.ctx.log('warn', `unreadable image ${name}: ${reason}`);
    this.unreadable.push(name);
    this.done++;
    this.report(name);
  }

  private report(current?: string): void {
    const pct = this.images === 0 ? 100 : Math.floor((this.done / this.images) * 100);
    this.ctx.progress(
      Math.min(pct, 99),
      `${this.done}/${this.images} image(s)${current ? ` · ${current}` : ''}`,
    );
  }

  private summary(): string {
    return (
      `${this.tagged} tagged, ${this.skipped} already captioned, ${this.unreadable.length} unreadable ` +
      `of ${this.images} image(s)`
    );
  }

  private result(): TagResult {
    return {
      summary: this.summary(),
      images: this.images,
      tagged: this.tagged,
      skipped_existing: this.skipped,
      unreadable: this.unreadable.length,
      unreadable_files: this.unreadable.slice(0, 100),
      collisions: this.collisions,
      analyzer: this.config.analyzer,
      model: this.modelName,
      model_cache: this.modelCache,
      save_type: this.config.save_type,
      output_dir: this.output,
      csv: this.csv?.path ?? null,
      input_dirs: this.inputs.map((i) => i.path),
      stopped: this.ctx.signal.aborted,
    };
  }
}

const round = (score: number): number => Math.round(score * 1e6) / 1e6;
