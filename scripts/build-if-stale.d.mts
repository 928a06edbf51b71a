/** Newest mtime (ms) of the files under `paths`, skipping `skip` folders; 0 when none exist. */
export function newestMtime(paths: readonly string[], skip?: readonly string[]): number;
/** Which builds under `root` are older than their sources (or missing). */
export function staleBuilds(root: string): { server: boolean; web: boolean };
