/**
 * Where captions go and how they are written (kohya's convention: the caption of `a.png` is
 * `a.txt` beside it).
 *
 * - `txt`: `<stem>.txt`, tags joined by ", " on one line; `json`: `<stem>.tags.json` (never
 *   `<stem>.json`, the name crawl and generate sidecars use); both beside the image, or under
 *   `output_dir` at the image's relative path. `csv`: one `tags.csv` in the task's folder.
 * - Every file is written under a temporary name and renamed, so a stopped run never leaves a
 *   half-written caption that a later run would take for a finished one.
 *
 * Colliding stems (`a.jpg` and `a.png` would both write `a.txt`): every image is tagged and no
 * caption overwrites another. In sorted order the first image keeps the kohya name `a.txt`; each
 * later one is named after its whole file name, `a.png.txt` — unambiguous about which image it
 * belongs to, and never the stem caption of any other image unless a file is literally named
 * `a.png.png` (then `a.png~2.txt`, and so on). kohya pairs captions by stem only, so the run logs
 * a warning naming both images: rename one of them before training.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, sep } from 'node:path';
import type { SaveType } from './schema.js';
import type { SourceImage } from './images.js';
import { parseCsv } from './csv.js';

export const SUFFIX: Record<Exclude<SaveType, 'csv'>, string> = {
  txt: '.txt',
  json: '.tags.json',
};
export const CSV_NAME = 'tags.csv';

export interface CaptionTarget {
  image: SourceImage;
  /** Absolute caption path (txt/json), or the row key (csv). */
  target: string;
}

export interface CaptionPlan {
  targets: CaptionTarget[];
  /** One line per image that could not take its natural name. */
  collisions: string[];
}

/** The caption file of each image, collisions resolved (see the file comment for the rule). */
export function planCaptionFiles(
  images: readonly SourceImage[],
  saveType: Exclude<SaveType, 'csv'>,
  outputDir: string | null,
): CaptionPlan {
  const suffix = SUFFIX[saveType];
  const folderOf = (image: SourceImage): string =>
    outputDir === null ? dirname(image.path) : join(outputDir, dirname(image.rel));
  const natural = (image: SourceImage): string => {
    const name = basename(image.path);
    return join(folderOf(image), name.slice(0, name.length - extname(name).length) + suffix);
  };
  const taken = new Map<string, SourceImage>();
  const pending: SourceImage[] = [];
  const chosen = new Map<SourceImage, string>();
  for (const image of images) {
    const target = natural(image);
    if (taken.has(target)) pending.push(image);
    else {
      taken.set(target, image);
      chosen.set(image, target);
    }
  }
  const collisions: string[] = [];
  for (const image of pending) {
    const folder = folderOf(image);
    const name = basename(image.path);
    let target = join(folder, name + suffix);
    for (let n = 2; taken.has(target); n++) target = join(folder, `${name}~${n}${suffix}`);
    const winner = taken.get(natural(image))!;
    taken.set(target, image);
    chosen.set(image, target);
    collisions.push(
      `${displayPath(image)} and ${displayPath(winner)} share the caption name ` +
        `${basename(natural(image))}: ${displayPath(winner)} keeps it, ${displayPath(image)} ` +
        `gets ${basename(target)} (kohya pairs captions by stem: rename one of the images)`,
    );
  }
  return { targets: images.map((image) => ({ image, target: chosen.get(image)! })), collisions };
}

export const displayPath = (image: SourceImage): string => image.rel.split(sep).join('/');

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

/**
 * Write under a temporary name in the same folder, then rename over the target. `folders` (the
 * folders this run already created) saves a mkdir per caption: file-system calls share the thread
 * pool with image decoding.
 */
export async function writeAtomically(
  path: string,
  data: string,
  folders?: Set<string>,
): Promise<void> {
  const folder = dirname(path);
  if (!folders?.has(folder)) {
    await mkdir(folder, { recursive: true });
    folders?.add(folder);
  }
  const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/**
 * The `tags.csv` of a run (`image,caption`): rows kept in memory and saved atomically, with rows
 * of an earlier attempt loaded first so a re-run skips what is already captioned.
 */
export class CsvCaptions {
  private readonly rows = new Map<string, string>();

  constructor(readonly path: string) {}

  async load(): Promise<void> {
    const text = await readFile(this.path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    for (const [image, caption] of parseCsv(text).slice(1)) {
      if (image !== undefined && caption !== undefined) this.rows.set(image, caption);
    }
  }

  has(image: string): boolean {
    return this.rows.has(image);
  }

  set(image: string, caption: string): void {
    this.rows.set(image, caption);
  }

  get size(): number {
    return this.rows.size;
  }

  async save(): Promise<void> {
    const lines = ['image,caption'];
    for (const [image, caption] of this.rows) lines.push(`${csvField(image)},${csvField(caption)}`);
    await writeAtomically(this.path, `${lines.join('\n')}\n`);
  }
}
