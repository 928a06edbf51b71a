/**
 * `{illustId}.json` beside an artwork's files: its metadata, which files hold which page, and the
 * search that found it. A sidecar with `complete: true` whose files all exist lets a later crawl
 * into the same folder skip the work without a single request to Pixiv.
 */
import { access, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JsonObject } from '../../domain/task.js';
import { ILLUST_TYPES, RESTRICTIONS, type Artwork } from './artwork.js';

export type SidecarPage = {
  page: number;
  url: string;
  /** Relative to the sidecar's folder; null when it was not saved (failed, or max_images). */
  file: string | null;
  width: number | null;
  height: number | null;
};

export type UgoiraInfo = {
  zip: string;
  zip_url: string;
  /** The frame delays file, `{id}_ugoira.json`. */
  frames_file: string;
  frames: { file: string; delay: number }[];
  /** The animated webp/gif built from the frames, if one was asked for. */
  animation: string | null;
};

export type Sidecar = {
  id: string;
  url: string;
  title: string;
  description: string;
  type: string;
  tags: { tag: string; translation: string | null }[];
  author: { id: string; name: string };
  created_at: string | null;
  uploaded_at: string | null;
  bookmarks: number;
  likes: number;
  views: number;
  page_count: number;
  pages: SidecarPage[];
  /** Every file of the work that is on disk (pages, or the ugoira zip and its animation). */
  files: string[];
  /** Every page (or the ugoira zip) was saved. */
  complete: boolean;
  x_restrict: number;
  restriction: string;
  ai_type: number;
  ugoira: UgoiraInfo | null;
  found_by: Record<string, string | number | boolean>;
  task_id: string;
  crawled_at: string;
};

export function sidecarName(id: string): string {
  return `${id}.json`;
}

export function buildSidecar(
  artwork: Artwork,
  parts: {
    pages: SidecarPage[];
    files: string[];
    complete: boolean;
    ugoira: UgoiraInfo | null;
    foundBy: Record<string, string | number | boolean>;
    taskId: string;
  },
): Sidecar {
  return {
    id: artwork.id,
    url: `https://www.pixiv.net/artworks/${artwork.id}`,
    title: artwork.title,
    description: artwork.description,
    type: ILLUST_TYPES[artwork.illustType] ?? String(artwork.illustType),
    tags: artwork.tags,
    author: { id: artwork.userId, name: artwork.userName },
    created_at: artwork.createDate,
    uploaded_at: artwork.uploadDate,
    bookmarks: artwork.bookmarkCount,
    likes: artwork.likeCount,
    views: artwork.viewCount,
    page_count: artwork.pageCount,
    pages: parts.pages,
    files: parts.files,
    complete: parts.complete,
    x_restrict: artwork.xRestrict,
    restriction: RESTRICTIONS[artwork.xRestrict] ?? String(artwork.xRestrict),
    ai_type: artwork.aiType,
    ugoira: parts.ugoira,
    found_by: parts.foundBy,
    task_id: parts.taskId,
    crawled_at: new Date().toISOString(),
  };
}

/** JSON through a temporary name, so a reader never sees half a file. */
export async function writeJsonAtomically(path: string, value: unknown): Promise<void> {
  const partial = `${path}.part`;
  try {
    await writeFile(partial, `${JSON.stringify(value, null, 2)}\n`);
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

/** A sidecar on disk, or null when there is none or it is not one of ours. */
export async function readSidecar(dir: string, id: string): Promise<Sidecar | null> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(join(dir, sidecarName(id)), 'utf8'));
  } catch {
    return null;
  }
  return isSidecar(parsed) && parsed.id === id ? parsed : null;
}

export function isSidecar(value: unknown): value is Sidecar {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<Record<keyof Sidecar, unknown>>;
  return (
    typeof v.id === 'string' &&
    typeof v.complete === 'boolean' &&
    Array.isArray(v.files) &&
    v.files.every((file) => typeof file === 'string') &&
    Array.isArray(v.tags)
  );
}

/** A complete work whose files are all still there. */
export async function isCompleteOnDisk(dir: string, sidecar: Sidecar): Promise<boolean> {
  if (!sidecar.complete || sidecar.files.length === 0) return false;
  for (const file of sidecar.files) {
    if (!(await exists(join(dir, file)))) return false;
  }
  return true;
}

export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** The sidecar as a JSON value (for API answers). */
export function sidecarJson(sidecar: Sidecar): JsonObject {
  return JSON.parse(JSON.stringify(sidecar)) as JsonObject;
}
