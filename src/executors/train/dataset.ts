/**
 * Where a training's inputs are: the image folders (named, or the output folders of earlier
 * crawl/tag tasks) and the model files. Every user-given path is confined to the allowed roots
 * (403 otherwise) at creation and again when the task runs, since a symlink can change between.
 */
import { readdir, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, parse } from 'node:path';
import { ErrorCode, TailorError, taskNotFound } from '../../domain/errors.js';
import { confineUserPath, type PathRoots } from '../paths.js';
import type { TaskService } from '../../scheduler/tasks.js';
import type { ModelFamily, TrainTaskConfig } from './config-schema.js';

export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.bmp']);
const MODEL_EXTENSIONS = new Set(['.safetensors', '.ckpt']);

export interface ResolvedSubset {
  /** The real path of the image folder. */
  imageDir: string;
  numRepeats: number;
  classTokens: string | null;
  images: number;
  captions: number;
}

export interface ResolvedModels {
  baseModel: string;
  /** Flux only: the text encoders and the autoencoder. */
  clipL: string | null;
  t5xxl: string | null;
  ae: string | null;
}

export interface InputRoots extends PathRoots {
  modelsDir: string;
}

const validation = (field: string, message: string): TailorError =>
  new TailorError(ErrorCode.VALIDATION, `${field} ${message}`, {
    fields: [{ path: field, message }],
  });

/** The dataset folders with their repeats, in the order given; every folder counted. */
export async function resolveDatasets(
  config: TrainTaskConfig,
  roots: PathRoots,
  tasks: Pick<TaskService, 'get' | 'outputDirOf'>,
): Promise<ResolvedSubset[]> {
  type Entry = { field: string; dir?: string; taskId?: string; repeats: number; tokens?: string };
  const entries: Entry[] = [];
  const shared = { repeats: config.num_repeats, tokens: config.class_tokens };
  if (config.dataset_dir !== undefined) {
    const dirs = Array.isArray(config.dataset_dir) ? config.dataset_dir : [config.dataset_dir];
    dirs.forEach((dir, i) =>
      entries.push({
        field: Array.isArray(config.dataset_dir)
          ? `/config/dataset_dir/${i}`
          : '/config/dataset_dir',
        dir,
        ...shared,
      }),
    );
  }
  config.dataset_task_ids?.forEach((taskId, i) =>
    entries.push({ field: `/config/dataset_task_ids/${i}`, taskId, ...shared }),
  );
  config.datasets?.forEach((entry, i) =>
    entries.push({
      field: `/config/datasets/${i}/${entry.dir !== undefined ? 'dir' : 'task_id'}`,
      ...(entry.dir !== undefined ? { dir: entry.dir } : {}),
      ...(entry.task_id !== undefined ? { taskId: entry.task_id } : {}),
      repeats: entry.num_repeats ?? config.num_repeats,
      tokens: entry.class_tokens ?? config.class_tokens,
    }),
  );

  const subsets: ResolvedSubset[] = [];
  for (const entry of entries) {
    let dir: string;
    if (entry.taskId !== undefined) {
      const task = await tasks.get(entry.taskId);
      if (!task) throw taskNotFound(entry.taskId);
      // A task's output folder is under the data dir by construction; confining it still
      // resolves symlinks a task may have left in it.
      dir = await confineUserPath(tasks.outputDirOf(entry.taskId), roots, entry.field);
    } else {
      dir = await confineUserPath(entry.dir ?? '', roots, entry.field);
    }
    const counts = await countImages(dir, config.caption_extension, entry.field);
    if (counts.images === 0) {
      throw validation(
        entry.field,
        `holds no images (${[...IMAGE_EXTENSIONS].join(', ')}): ${dir}`,
      );
    }
    subsets.push({
      imageDir: dir,
      numRepeats: entry.repeats,
      classTokens: entry.tokens ?? null,
      ...counts,
    });
  }
  return subsets;
}

/** Images in the folder (not recursive, as sd-scripts reads it) and how many have a caption. */
export async function countImages(
  dir: string,
  captionExtension: string,
  field: string,
): Promise<{ images: number; captions: number }> {
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') {
      throw validation(field, `is not a folder: ${dir}`);
    }
    throw error;
  });
  const present = new Set(names);
  let images = 0;
  let captions = 0;
  for (const name of names) {
    if (!IMAGE_EXTENSIONS.has(extname(name).toLowerCase())) continue;
    images++;
    if (present.has(parse(name).name + captionExtension)) captions++;
  }
  return { images, captions };
}

/**
 * A model named by the user: a bare file name is looked up in `<modelsDir>/<folder>`; an absolute
 * path must lie under the models dir, the data dir or an image root.
 */
export async function resolveModelFile(
  input: string,
  folder: string,
  roots: InputRoots,
  field: string,
): Promise<string> {
  const bare = !isAbsolute(input) && !input.includes('/') && !input.includes('\\');
  if (!bare && !isAbsolute(input)) {
    throw validation(field, 'must be a file name or an absolute path');
  }
  const allowed = { dataDir: roots.dataDir, imageRoots: [roots.modelsDir, ...roots.imageRoots] };
  const path = await confineUserPath(
    bare ? join(roots.modelsDir, folder, input) : input,
    allowed,
    field,
  );
  if (!MODEL_EXTENSIONS.has(extname(path).toLowerCase())) {
    throw validation(field, 'must be a .safetensors or .ckpt file');
  }
  const info = await stat(path).catch(() => null);
  if (!info?.isFile()) {
    throw new TailorError(ErrorCode.RESOURCE_NOT_FOUND, `${field}: no model file ${path}`, {
      field,
    });
  }
  return path;
}

export async function resolveModels(
  config: TrainTaskConfig,
  roots: InputRoots,
): Promise<ResolvedModels> {
  const flux = (config.model_family satisfies ModelFamily) === 'flux';
  const optional = async (value: string | undefined, folder: string, field: string) =>
    flux && value !== undefined ? resolveModelFile(value, folder, roots, field) : null;
  return {
    baseModel: await resolveModelFile(
      config.base_model,
      'checkpoints',
      roots,
      '/config/base_model',
    ),
    clipL: await optional(config.clip_l, 'clip', '/config/clip_l'),
    t5xxl: await optional(config.t5xxl, 'clip', '/config/t5xxl'),
    ae: await optional(config.ae, 'vae', '/config/ae'),
  };
}
