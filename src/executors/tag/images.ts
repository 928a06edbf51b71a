/**
 * The images of a tag run: files with an image extension in the input folders (and their
 * subfolders with `recursive`), in a stable order — input folder by input folder, then by relative
 * path in code-point order — so that re-runs, collisions and `limit` always pick the same files.
 *
 * A symlink inside an input folder is followed only if its target is inside the allowed roots, so
 * a link cannot smuggle an outside file into a caption or a result.
 */
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { TailorError } from '../../domain/errors.js';
import { confineUserPath, type PathRoots } from '../paths.js';

export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.jpg',
  '.jpeg',
  '.png',
  '.webp',
  '.gif',
  '.bmp',
  '.avif',
]);

export const isImageFile = (name: string): boolean =>
  IMAGE_EXTENSIONS.has(extname(name).toLowerCase());

export interface SourceImage {
  /** Position of its input folder in the task's list. */
  input: number;
  /** The input folder, resolved. */
  root: string;
  /** Path relative to `root`, with the platform's separator. */
  rel: string;
  path: string;
}

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export async function listImages(
  root: string,
  input: number,
  options: { recursive: boolean; roots: PathRoots; warn(message: string): void },
): Promise<SourceImage[]> {
  const found: SourceImage[] = [];
  const visit = async (dir: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (dir === root) throw error;
      options.warn(`cannot read folder ${relative(root, dir)}: ${(error as Error).message}`);
      return;
    }
    entries.sort((a, b) => byCodePoint(a.name, b.name));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      let isFile = entry.isFile();
      let isDir = entry.isDirectory();
      if (entry.isSymbolicLink()) {
        try {
          await confineUserPath(path, options.roots, 'a link in input_dir');
          const target = await stat(path);
          isFile = target.isFile();
          isDir = target.isDirectory();
        } catch (error) {
          const why =
            error instanceof TailorError
              ? 'it points outside the allowed folders'
              : (error as Error).message;
          options.warn(`skipped ${relative(root, path)}: ${why}`);
          continue;
        }
      }
      if (isFile && isImageFile(entry.name)) {
        found.push({ input, root, rel: relative(root, path), path });
      } else if (isDir && options.recursive) {
        await visit(path);
      }
    }
  };
  await visit(root);
  // Directory-by-directory order already holds within one folder; the relative path order makes
  // `a/b.png` and `a.png` compare the same way on every platform.
  return found.sort((a, b) => byCodePoint(a.rel.split(sep).join('/'), b.rel.split(sep).join('/')));
}
