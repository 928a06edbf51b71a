/**
 * One training: resolve and count the dataset, write `dataset.toml` + `config.toml` into the
 * task's folder, run sd-scripts in its own process group, turn its output into progress and log
 * lines, and list what it saved. One training at a time per node is the lane invariant (one GPU).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JsonValue } from '../../domain/task.js';
import { ExecutorFailure, type ExecutorContext } from '../../scheduler/executor.js';
import type { TaskService } from '../../scheduler/tasks.js';
import { DEFAULT_EPOCHS, type TrainTaskConfig } from './config-schema.js';
import { resolveDatasets, resolveModels, type InputRoots } from './dataset.js';
import {
  CONFIG_TOML,
  DATASET_TOML,
  SAMPLE_PROMPTS_FILE,
  datasetToml,
  samplePromptsFile,
  trainerCommand,
  trainingToml,
  type LaunchSettings,
} from './kohya-config.js';
import { TrainerProcess, type GroupExit, type StopTimings } from './process-group.js';
import {
  LineSplitter,
  LossCurve,
  Tail,
  parseEpoch,
  parseSteps,
  type LossPoint,
  type StepProgress,
} from './trainer-output.js';

export interface TrainTimings extends StopTimings {
  /** At most one progress-bar line in the task log per this interval. */
  progressLogIntervalMs: number;
}

/**
 * The whole escalation (8 s) fits within the scheduler's default grace period (TAILOR_GRACE_MS,
 * 10 s): the lane must not start the next training while this one still holds the GPU.
 */
export const DEFAULT_TRAIN_TIMINGS: TrainTimings = {
  interruptGraceMs: 5_000,
  terminateGraceMs: 3_000,
  progressLogIntervalMs: 5_000,
};

/** File systems with coarse timestamps (FAT: 2 s) may date a new file slightly in the past. */
const MTIME_SLACK_MS = 2_000;

/** Lines of trainer output quoted in a failed task's error. */
const ERROR_TAIL_LINES = 15;

export interface SavedFile {
  /** Relative to `output_dir`. */
  file: string;
  size: number;
  sha256: string;
}

export interface TrainedLora extends SavedFile {
  /** The epoch it was saved after; null for the final file. */
  epoch: number | null;
}

export interface TrainResult {
  /** One line for the task's final message (set when the training completed). */
  summary?: string;
  output_dir: string;
  output_name: string;
  model_family: string;
  loras: TrainedLora[];
  /** The final LoRA (`<output_name>.safetensors`), also in `loras`. */
  final: TrainedLora | null;
  samples: string[];
  final_loss: number | null;
  loss_curve: LossPoint[];
  steps: number | null;
  dataset: { images: number; captions: number; folders: number };
  /** Where the final LoRA was copied for the WebUI (`SD_WEBUI_LORA_DIR`), or null. */
  webui_lora: string | null;
}

export interface TrainExecutorDeps {
  launch: () => LaunchSettings;
  webuiLoraDir: string | null;
  roots: InputRoots;
  tasks: Pick<TaskService, 'get' | 'outputDirOf'>;
  timings: TrainTimings;
}

export function outputNameOf(config: TrainTaskConfig, taskId: string): string {
  return config.output_name ?? `lora-${taskId}`;
}

export async function runTraining(
  ctx: ExecutorContext<TrainTaskConfig>,
  deps: TrainExecutorDeps,
): Promise<JsonValue> {
  const { config } = ctx;
  const launch = deps.launch();
  // Checked again here: a folder or symlink may have changed since the task was queued.
  const subsets = await resolveDatasets(config, deps.roots, deps.tasks);
  const models = await resolveModels(config, deps.roots);
  const outputDir = ctx.outputDir;
  const outputName = outputNameOf(config, ctx.task.id);
  await mkdir(outputDir, { recursive: true });

  const images = subsets.reduce((n, s) => n + s.images, 0);
  const captions = subsets.reduce((n, s) => n + s.captions, 0);
  for (const subset of subsets) {
    ctx.log(
      'info',
      `dataset ${subset.imageDir}: ${subset.images} images, ${subset.captions} captions, ` +
        `${subset.numRepeats} repeats`,
    );
    if (subset.captions < subset.images) {
      ctx.log(
        'warn',
        `${subset.images - subset.captions} of ${subset.images} images in ${subset.imageDir} have ` +
          `no ${config.caption_extension} caption: they train on their class tokens only`,
      );
    }
  }

  await writeFile(join(outputDir, DATASET_TOML), datasetToml(config, subsets));
  await writeFile(
    join(outputDir, CONFIG_TOML),
    trainingToml(config, { outputDir, outputName, models }),
  );
  const prompts = samplePromptsFile(config);
  if (prompts !== null) await writeFile(join(outputDir, SAMPLE_PROMPTS_FILE), prompts);

  const watcher = new OutputWatcher(ctx, deps.timings, config);
  // Files older than this attempt (a re-run's earlier files in the same folder) are not its output.
  const attemptStarted = Date.now() - MTIME_SLACK_MS;
  const partial = async (): Promise<TrainResult> => ({
    ...(await collectOutputs(outputDir, outputName, attemptStarted)),
    output_dir: outputDir,
    output_name: outputName,
    model_family: config.model_family,
    final_loss: watcher.curve.last?.loss ?? null,
    loss_curve: watcher.curve.toJSON(),
    steps: watcher.lastSteps?.step ?? null,
    dataset: { images, captions, folders: subsets.length },
    webui_lora: null,
  });

  if (ctx.signal.aborted) throw new Error('stopped before the trainer started');
  const { command, args } = trainerCommand(config.model_family, launch, outputDir);
  ctx.log('info', `starting ${command} ${args.join(' ')}`);
  ctx.progress(0, 'starting the trainer');
  const trainer = new TrainerProcess(
    command,
    args,
    // Unbuffered, so lines arrive as the trainer prints them rather than in 4 KiB blocks.
    { cwd: launch.kohyaDir, env: { ...process.env, PYTHONUNBUFFERED: '1' } },
    deps.timings,
    (signal) =>
      ctx.log(
        signal === 'SIGINT' ? 'info' : 'warn',
        `sending ${signal} to the trainer's process group (${ctx.signal.aborted ? 'stop requested' : 'left behind after it exited'})`,
      ),
  );
  const onAbort = () => void trainer.stop();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  trainer.child.stdout.setEncoding('utf8');
  trainer.child.stderr.setEncoding('utf8');
  const out = new LineSplitter(watcher.sink());
  const err = new LineSplitter(watcher.sink());
  trainer.child.stdout.on('data', (chunk: string) => out.push(chunk));
  trainer.child.stderr.on('data', (chunk: string) => err.push(chunk));

  let exit: GroupExit;
  try {
    exit = await trainer.exited;
  } catch (error) {
    throw new Error(`cannot start the trainer (${command}): ${(error as Error).message}`);
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    out.end();
    err.end();
    await trainer.reapLeftovers();
  }

  if (ctx.signal.aborted) {
    throw new ExecutorFailure('training stopped', toJson(await partial()));
  }
  if (exit.code !== 0) {
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    throw new ExecutorFailure(
      `the trainer ${how}; its last output:\n${watcher.tail.toString()}`,
      toJson(await partial()),
    );
  }

  const result = await partial();
  if (!result.final) {
    throw new ExecutorFailure(
      `the trainer exited without saving ${outputName}.safetensors; its last output:\n${watcher.tail.toString()}`,
      toJson(result),
    );
  }
  if (deps.webuiLoraDir !== null) {
    result.webui_lora = await publishLora(
      join(outputDir, result.final.file),
      deps.webuiLoraDir,
      outputName,
    );
    ctx.log('info', `copied to ${result.webui_lora}: use it as <lora:${outputName}:1>`);
  }
  const lossText =
    result.final_loss === null ? '' : `, final loss ${formatLoss(result.final_loss)}`;
  result.summary = `trained ${outputName}: ${result.loras.length} file(s)${lossText}`;
  ctx.progress(100, result.summary);
  return toJson(result);
}

/** Progress, log lines and the loss curve from the trainer's two streams. */
class OutputWatcher {
  readonly curve = new LossCurve();
  readonly tail = new Tail(ERROR_TAIL_LINES);
  lastSteps: StepProgress | null = null;
  private epoch: { epoch: number; total: number } | null = null;
  private lastProgressLog = 0;

  constructor(
    private readonly ctx: ExecutorContext<TrainTaskConfig>,
    private readonly timings: TrainTimings,
    private readonly config: TrainTaskConfig,
  ) {}

  sink() {
    return {
      line: (text: string) => {
        this.observe(text);
        this.tail.push(text);
        this.ctx.log(/error|traceback|exception/i.test(text) ? 'error' : 'info', text);
      },
      redraw: (text: string) => {
        if (!this.observe(text)) return;
        const now = Date.now();
        if (now - this.lastProgressLog >= this.timings.progressLogIntervalMs) {
          this.lastProgressLog = now;
          this.ctx.log('info', text.trim());
        }
      },
    };
  }

  /** Updates progress from a line or redraw; true when it was the step bar. */
  private observe(text: string): boolean {
    const epoch = parseEpoch(text);
    if (epoch) {
      this.epoch = epoch;
      this.report();
      return false;
    }
    const steps = parseSteps(text);
    if (!steps) return false;
    this.lastSteps = steps;
    if (steps.loss !== null) this.curve.add(steps.step, steps.loss);
    this.report();
    return true;
  }

  private report(): void {
    const steps = this.lastSteps;
    const epochs =
      this.config.max_train_epochs ?? (this.config.max_train_steps ? null : DEFAULT_EPOCHS);
    const parts: string[] = [];
    if (this.epoch) parts.push(`epoch ${this.epoch.epoch}/${this.epoch.total}`);
    else if (epochs !== null) parts.push(`epoch ?/${epochs}`);
    if (steps) {
      parts.push(`step ${steps.step}/${steps.total}`);
      if (steps.loss !== null) parts.push(`loss ${formatLoss(steps.loss)}`);
      if (steps.eta) parts.push(`ETA ${steps.eta}`);
    }
    // 100 is for a finished task with its files listed; the bar reaching its end is not that.
    const pct =
      steps && steps.total > 0 ? Math.min(99, Math.floor((steps.step / steps.total) * 100)) : 0;
    this.ctx.progress(pct, parts.join(' · '));
  }
}

const formatLoss = (loss: number): string => loss.toPrecision(4);

/** The `.safetensors` files and sample images the trainer saved, with sizes and hashes. */
async function collectOutputs(
  outputDir: string,
  outputName: string,
  since: number,
): Promise<Pick<TrainResult, 'loras' | 'final' | 'samples'>> {
  const names = (await readdir(outputDir)).sort();
  const epochFile = new RegExp(`^${escapeRegExp(outputName)}-(\\d+)\\.safetensors$`);
  const loras: TrainedLora[] = [];
  let final: TrainedLora | null = null;
  for (const name of names) {
    const epoch = epochFile.exec(name);
    const isFinal = name === `${outputName}.safetensors`;
    if (!epoch && !isFinal) continue;
    const path = join(outputDir, name);
    const info = await stat(path);
    if (info.mtimeMs < since) continue;
    const lora: TrainedLora = {
      file: name,
      size: info.size,
      sha256: await sha256Of(path),
      epoch: epoch ? Number(epoch[1]) : null,
    };
    loras.push(lora);
    if (isFinal) final = lora;
  }
  const sampleDir = join(outputDir, 'sample');
  const samples: string[] = [];
  for (const name of (await readdir(sampleDir).catch(() => [] as string[])).sort()) {
    if (!name.toLowerCase().endsWith('.png')) continue;
    const info = await stat(join(sampleDir, name)).catch(() => null);
    if (info && info.mtimeMs >= since) samples.push(`sample/${name}`);
  }
  return {
    loras: [...loras.filter((l) => l.epoch !== null), ...(final ? [final] : [])],
    final,
    samples,
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Copy the LoRA where the WebUI looks for them, through a temporary name and a rename, so the
 * WebUI never lists a half-written file.
 */
async function publishLora(source: string, loraDir: string, outputName: string): Promise<string> {
  await mkdir(loraDir, { recursive: true });
  const target = join(loraDir, `${outputName}.safetensors`);
  const temp = join(loraDir, `.${outputName}.safetensors.${process.pid}.tmp`);
  try {
    await copyFile(source, temp);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return target;
}

function toJson(result: TrainResult): JsonValue {
  return JSON.parse(JSON.stringify(result)) as JsonValue;
}
