/**
 * Folders named by users (a tag input, a crawl's dataset folder, a training set). The rule:
 * a relative path resolves against the data dir; the result, after every symlink in it is
 * resolved, must lie inside the data dir or one of the image roots (`TAILOR_IMAGE_ROOTS`).
 * Anything else is refused with 403 (40300) before a task exists, and checked again when the task
 * runs, since a symlink can change in between.
 */
import { realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { ErrorCode, TailorError } from '../domain/errors.js';

export interface PathRoots {
  dataDir: string;
  imageRoots: readonly string[];
}

const within = (path: string, root: string): boolean =>
  path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);

/** The real path of `path`, or of its nearest existing ancestor joined with the missing rest. */
async function realpathOfNearest(path: string): Promise<string> {
  const missing: string[] = [];
  let current = path;
  for (;;) {
    const real = await realpath(current).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return null;
      throw error;
    });
    if (real !== null) return join(real, ...missing.reverse());
    const parent = dirname(current);
    if (parent === current) return join(current, ...missing.reverse());
    missing.push(basename(current));
    current = parent;
  }
}

async function realRoots(roots: PathRoots): Promise<string[]> {
  const all = [roots.dataDir, ...roots.imageRoots];
  return Promise.all(all.map((root) => realpathOfNearest(resolve(root))));
}

/**
 * Resolve a user-given folder and confine it. `field` names the request field in the error.
 * The folder need not exist (an output folder is created later); its existing part is resolved
 * through symlinks, so a link inside an allowed root that points outside is refused.
 */
export async function confineUserPath(
  input: string,
  roots: PathRoots,
  field: string,
): Promise<string> {
  if (input.includes('\0')) {
    throw new TailorError(ErrorCode.VALIDATION, `${field} must not contain a NUL byte`, { field });
  }
  const absolute = isAbsolute(input) ? resolve(input) : resolve(roots.dataDir, input);
  const real = await realpathOfNearest(absolute);
  const allowed = await realRoots(roots);
  if (!allowed.some((root) => within(real, root))) {
    throw new TailorError(
      ErrorCode.FORBIDDEN_PATH,
      `${field} ${JSON.stringify(input)} is outside the allowed folders (the data dir and TAILOR_IMAGE_ROOTS)`,
      { field },
    );
  }
  return real;
}
