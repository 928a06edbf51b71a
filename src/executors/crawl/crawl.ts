/**
 * One crawl: walk the listing (search, profile, ranking or one artwork), and for each work that
 * passes the filters save every page as `{id}_p{page}.{ext}` with a sidecar `{id}.json`.
 *
 * Outcomes per artwork: kept (saved, or already complete on disk), filtered out, unavailable
 * (403/404, or no original URL for this session: R-18 without a login), or failed (a request that
 * kept failing). Only kept works count towards `limit`, so a filter never shrinks the dataset
 * below what was asked while the listing lasts. A failed listing request fails the task (there is
 * nothing more to walk); everything saved so far stays and a re-run resumes.
 *
 * Stop: the task's signal aborts the in-flight request and every wait at once; the client removes
 * the `.part` file of the download it interrupted, so only complete files remain.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { scrubSecrets } from '../../domain/redact.js';
import type { LogLevel } from '../../domain/task.js';
import { ExecutorFailure, type ExecutorContext } from '../../scheduler/executor.js';
import { createHttpClient } from '../http-client.js';
import { confineUserPath, type PathRoots } from '../paths.js';
import {
  extensionOf,
  factsOf,
  filterReason,
  pageUrl,
  parseArtwork,
  type Artwork,
} from './artwork.js';
import { field } from './answers.js';
import { listingFor, type Candidate, type Listing } from './listing.js';
import { PixivClient, PixivRequestError, type CrawlTiming } from './pixiv-client.js';
import type { CrawlConfig } from './schema.js';
import {
  buildSidecar,
  exists,
  isCompleteOnDisk,
  readSidecar,
  sidecarName,
  writeJsonAtomically,
  type Sidecar,
  type SidecarPage,
  type UgoiraInfo,
} from './sidecar.js';
import { buildAnimation, parseUgoiraMeta } from './ugoira.js';

export interface CrawlEnvironment {
  apiBase: string;
  /** `PIXIV_COOKIE`, used when a task names none or says `"default"`. */
  defaultCookie: string | null;
  roots: PathRoots;
  timing: CrawlTiming;
}

/** The task's `result` (a type alias so it stays assignable to a JSON value). */
export type CrawlResult = {
  /** One line for the task's final message. */
  summary: string;
  /** Artworks taken from the listing and looked at. */
  found: number;
  /** Artworks saved by this run or found complete on disk. */
  artworks: number;
  /** Files written by this run. */
  downloaded: number;
  /** Files already complete on disk, not downloaded again. */
  skipped_existing: number;
  /** Works this session may not see: deleted, private, R-18 without a login. */
  unavailable: number;
  /** Works left out by include_manga, exclude_ai or min_bookmarks. */
  filtered: number;
  /** Works not (completely) saved because a request kept failing. */
  failed: number;
  /** Animated files built from ugoira frames. */
  animations: number;
  /** Requests sent to Pixiv, retries included. */
  requests: number;
  bytes: number;
  output_dir: string;
  stopped_by: 'limit' | 'max_images' | 'end' | 'stop';
};

/** Leftovers of a process killed mid-write (a stop removes its own at once). */
const PARTIAL_FILE = /^[1-9][0-9]*(_p[0-9]+\.[a-z0-9]+|_ugoira\.[a-z0-9]+|\.json)\.part$/;

type Outcome = 'kept' | 'filtered' | 'unavailable' | 'failed';

export class Crawl {
  private readonly config: CrawlConfig;
  private readonly secrets: string[];
  private client!: PixivClient;
  private listing!: Listing;
  private dir = '';
  private readonly counts = {
    found: 0,
    artworks: 0,
    downloaded: 0,
    skipped_existing: 0,
    unavailable: 0,
    filtered: 0,
    failed: 0,
    animations: 0,
    bytes: 0,
  };
  private stoppedBy: CrawlResult['stopped_by'] = 'end';

  constructor(
    private readonly ctx: ExecutorContext<CrawlConfig>,
    private readonly env: CrawlEnvironment,
  ) {
    this.config = ctx.config;
    // The core scrubs the task's own config secrets; the configured cookie is not in the config,
    // so its value (and each of its cookie values) is scrubbed here from every line we emit.
    this.secrets = cookieSecrets(this.cookie());
  }

  private get files(): number {
    return this.counts.downloaded + this.counts.skipped_existing;
  }

  async run(): Promise<CrawlResult> {
    const { ctx, config } = this;
    this.dir = config.output_dir
      ? await confineUserPath(config.output_dir, this.env.roots, 'output_dir')
      : ctx.outputDir;
    await mkdir(this.dir, { recursive: true });
    await removeLeftovers(this.dir);

    const cookie = this.cookie();
    // A task's own proxy gets its own connection pool; otherwise the shared one (TAILOR_PROXY).
    const ownHttp = config.proxy_url
      ? createHttpClient({ proxy: config.proxy_url, timeoutMs: this.env.timing.requestTimeoutMs })
      : null;
    this.client = new PixivClient({
      apiBase: this.env.apiBase,
      cookie,
      delayMs: config.delay * 1000,
      http: ownHttp ?? ctx.http,
      signal: ctx.signal,
      timing: this.env.timing,
      onRetry: (what, reason, waitMs) =>
        this.log('warn', `${what}: ${reason}; retrying in ${(waitMs / 1000).toFixed(1)} s`),
    });
    this.listing = listingFor(this.client, config);
    this.log(
      'info',
      `crawling ${describeSource(this.listing.source)} into ${this.dir} ` +
        `(limit ${config.limit} artworks${config.max_images ? `, max ${config.max_images} files` : ''}, ` +
        `delay ${config.delay} s, ${cookie ? 'with a Pixiv session' : 'without a Pixiv session'})`,
    );
    this.report();

    try {
      await this.walk();
    } catch (error) {
      if (!ctx.signal.aborted) {
        // The core logs this message as the task's error; what was saved so far stays.
        const message = this.scrub(`listing failed: ${messageOf(error)}; ${this.summary()}`);
        throw new ExecutorFailure(message, this.result());
      }
    } finally {
      await ownHttp?.close();
    }

    if (ctx.signal.aborted) {
      this.stoppedBy = 'stop';
      this.log('info', `stopped; ${this.summary()}`);
    } else {
      ctx.progress(100, this.scrub(`done: ${this.summary()}`));
      this.log('info', `done (${this.stopReasonText()}): ${this.summary()}`);
    }
    return this.result();
  }

  private async walk(): Promise<void> {
    const { config, ctx } = this;
    for await (const candidate of this.listing.candidates) {
      if (ctx.signal.aborted) return;
      this.counts.found++;
      const outcome = await this.artwork(candidate);
      if (ctx.signal.aborted) return;
      this.counts[outcome === 'kept' ? 'artworks' : outcome]++;
      this.report();
      if (this.counts.artworks >= config.limit) {
        this.stoppedBy = 'limit';
        return;
      }
      if (config.max_images !== undefined && this.files >= config.max_images) {
        this.stoppedBy = 'max_images';
        return;
      }
    }
  }

  /** One artwork from candidate to saved files; never throws except when the task is stopped. */
  private async artwork(candidate: Candidate): Promise<Outcome> {
    const { id } = candidate;
    const early = filterReason(candidate, this.config);
    if (early !== null) {
      this.log('info', `${id}: skipped, ${early}`);
      return 'filtered';
    }
    // Complete from an earlier crawl into this folder: nothing to ask Pixiv.
    const previous = await readSidecar(this.dir, id);
    if (previous && (await this.isComplete(previous))) {
      const reason = filterReason(
        {
          illustType: previous.type === 'manga' ? 1 : undefined,
          aiType: previous.ai_type,
          tags: previous.tags.map((t) => t.tag),
          bookmarkCount: previous.bookmarks,
        },
        this.config,
      );
      if (reason !== null) {
        this.log('info', `${id}: skipped, ${reason}`);
        return 'filtered';
      }
      // Counted as the downloads they replace: the pages, or an ugoira's zip.
      const take = this.remainingFiles(previous.ugoira ? 1 : previous.files.length);
      this.counts.skipped_existing += take;
      this.log(
        'info',
        `${id} "${previous.title}": already complete (${previous.files.join(', ')})`,
      );
      return 'kept';
    }

    let artwork: Artwork;
    try {
      artwork = parseArtwork(id, await this.client.ajax(`/ajax/illust/${id}?lang=en`));
    } catch (error) {
      return this.requestFailed(id, 'details', error);
    }
    const reason = filterReason(factsOf(artwork), this.config);
    if (reason !== null) {
      this.log('info', `${id} "${artwork.title}": skipped, ${reason}`);
      return 'filtered';
    }
    return artwork.illustType === 2 ? this.saveUgoira(artwork) : this.savePages(artwork);
  }

  /** Complete on disk, and holding the animation this crawl asks for (a gif after a webp run). */
  private async isComplete(previous: Sidecar): Promise<boolean> {
    const wanted = this.config.ugoira;
    if (
      previous.ugoira &&
      wanted !== 'zip' &&
      !previous.files.includes(`${previous.id}_ugoira.${wanted}`)
    )
      return false;
    return isCompleteOnDisk(this.dir, previous);
  }

  private async savePages(artwork: Artwork): Promise<Outcome> {
    const { id } = artwork;
    if (artwork.original === null) {
      this.log(
        'warn',
        `${id} "${artwork.title}": unavailable, no original image for this session ` +
          `(${artwork.xRestrict > 0 ? 'R-18: a logged-in cookie is needed' : 'restricted'})`,
      );
      return 'unavailable';
    }
    let pages: { url: string; width: number | null; height: number | null }[];
    if (artwork.pageCount === 1) {
      pages = [{ url: artwork.original, width: artwork.width, height: artwork.height }];
    } else {
      try {
        pages = parsePages(await this.client.ajax(`/ajax/illust/${id}/pages`), artwork);
      } catch (error) {
        return this.requestFailed(id, 'page list', error);
      }
    }

    const saved: SidecarPage[] = [];
    const files: string[] = [];
    const failures: string[] = [];
    let capped = false;
    for (const [page, info] of pages.entries()) {
      const file = `${id}_p${page}.${extensionOf(info.url)}`;
      const entry: SidecarPage = {
        page,
        url: info.url,
        file: null,
        width: info.width,
        height: info.height,
      };
      saved.push(entry);
      if (this.remainingFiles(1) === 0) {
        capped = true;
        continue;
      }
      const status = await this.saveFile(info.url, file);
      if (status === 'failed') {
        failures.push(`p${page}`);
        continue;
      }
      entry.file = file;
      files.push(file);
      this.report(page + 1, pages.length);
    }
    const complete = failures.length === 0 && !capped;
    await this.writeSidecar(artwork, { pages: saved, files, complete, ugoira: null });
    const note = capped ? ` (max_images reached after ${files.length} page(s))` : '';
    if (failures.length > 0) {
      this.log(
        'warn',
        `${id} "${artwork.title}": ${files.length} of ${pages.length} page(s) saved, failed: ${failures.join(', ')}`,
      );
      return 'failed';
    }
    this.log('info', `${id} "${artwork.title}": ${files.join(', ')}${note}`);
    return 'kept';
  }

  private async saveUgoira(artwork: Artwork): Promise<Outcome> {
    const { id } = artwork;
    let metaBody: unknown;
    try {
      metaBody = await this.client.ajax(`/ajax/illust/${id}/ugoira_meta?lang=en`);
    } catch (error) {
      return this.requestFailed(id, 'ugoira frames', error);
    }
    const meta = parseUgoiraMeta(metaBody);
    if (!meta) {
      this.log('warn', `${id} "${artwork.title}": unavailable, no ugoira frames for this session`);
      return 'unavailable';
    }
    if (this.remainingFiles(1) === 0) return 'kept';
    const zip = `${id}_ugoira.zip`;
    const framesFile = `${id}_ugoira.json`;
    const status = await this.saveFile(meta.originalSrc, zip);
    if (status === 'failed') {
      this.log('warn', `${id} "${artwork.title}": ugoira zip failed`);
      return 'failed';
    }
    await writeJsonAtomically(join(this.dir, framesFile), {
      id,
      zip,
      mime_type: meta.mimeType,
      frames: meta.frames,
    });
    const files = [zip, framesFile];
    let animation: string | null = null;
    if (this.config.ugoira !== 'zip') {
      const name = `${id}_ugoira.${this.config.ugoira}`;
      const target = join(this.dir, name);
      try {
        if (!(await exists(target))) {
          await buildAnimation(
            join(this.dir, zip),
            meta.frames,
            this.config.ugoira,
            target,
            this.ctx.signal,
          );
          this.counts.animations++;
        }
        animation = name;
        files.push(name);
      } catch (error) {
        if (this.ctx.signal.aborted) throw error;
        this.log('warn', `${id}: could not build the ${this.config.ugoira}: ${messageOf(error)}`);
      }
    }
    const ugoira: UgoiraInfo = {
      zip,
      zip_url: meta.originalSrc,
      frames_file: framesFile,
      frames: meta.frames,
      animation,
    };
    const pages: SidecarPage[] = [
      { page: 0, url: meta.originalSrc, file: zip, width: artwork.width, height: artwork.height },
    ];
    await this.writeSidecar(artwork, { pages, files, complete: true, ugoira });
    this.log(
      'info',
      `${id} "${artwork.title}": ugoira, ${meta.frames.length} frames: ${files.join(', ')}`,
    );
    return 'kept';
  }

  /** One file: skipped if complete on disk, else downloaded. Rethrows only a stop. */
  private async saveFile(url: string, file: string): Promise<'downloaded' | 'present' | 'failed'> {
    const target = join(this.dir, file);
    if (await exists(target)) {
      this.counts.skipped_existing++;
      return 'present';
    }
    try {
      this.counts.bytes += await this.client.download(url, target);
      this.counts.downloaded++;
      return 'downloaded';
    } catch (error) {
      if (this.ctx.signal.aborted) throw error;
      this.log('warn', `${file}: ${messageOf(error)}`);
      return 'failed';
    }
  }

  private async writeSidecar(
    artwork: Artwork,
    parts: { pages: SidecarPage[]; files: string[]; complete: boolean; ugoira: UgoiraInfo | null },
  ): Promise<void> {
    const sidecar = buildSidecar(artwork, {
      ...parts,
      foundBy: this.listing.source,
      taskId: this.ctx.task.id,
    });
    await writeJsonAtomically(join(this.dir, sidecarName(artwork.id)), sidecar);
  }

  private requestFailed(id: string, what: string, error: unknown): Outcome {
    if (this.ctx.signal.aborted) throw error;
    if (error instanceof PixivRequestError && error.gone) {
      this.log('warn', `${id}: unavailable (deleted or restricted: HTTP ${error.status})`);
      return 'unavailable';
    }
    this.log('warn', `${id}: ${what} failed: ${messageOf(error)}`);
    return 'failed';
  }

  /** How many of `wanted` more files `max_images` still allows. */
  private remainingFiles(wanted: number): number {
    const cap = this.config.max_images;
    return cap === undefined ? wanted : Math.max(0, Math.min(wanted, cap - this.files));
  }

  /**
   * Progress from artworks kept out of `limit`, artworks looked at out of the listing's size, and
   * files out of `max_images`, whichever is furthest; 100 only when done (the core keeps it
   * monotonic).
   */
  private report(pagesDone = 0, pagesOfWork = 1): void {
    const { config, counts } = this;
    const total = this.listing.total;
    const fractions = [(counts.artworks + pagesDone / pagesOfWork) / config.limit];
    if (total !== null && total > 0) fractions.push(counts.found / Math.min(total, 100_000));
    if (config.max_images !== undefined) fractions.push(this.files / config.max_images);
    const pct = Math.min(99, Math.floor(100 * Math.max(...fractions)));
    this.ctx.progress(
      pct,
      this.scrub(
        `${counts.artworks}/${config.limit} artworks · ${counts.downloaded} downloaded · ` +
          `${counts.skipped_existing} already present`,
      ),
    );
  }

  private log(level: LogLevel, message: string): void {
    this.ctx.log(level, this.scrub(message));
  }

  private scrub(text: string): string {
    return scrubSecrets(text, this.secrets);
  }

  private cookie(): string | null {
    const own = this.config.cookie;
    if (own === undefined || own === 'default') return this.env.defaultCookie || null;
    return own;
  }

  private summary(): string {
    const c = this.counts;
    return (
      `${c.artworks} artwork(s) of ${c.found} found, ${c.downloaded} file(s) downloaded, ` +
      `${c.skipped_existing} already present, ${c.unavailable} unavailable, ` +
      `${c.filtered} filtered out, ${c.failed} failed, ${this.client.requests} request(s)`
    );
  }

  private stopReasonText(): string {
    switch (this.stoppedBy) {
      case 'limit':
        return `limit of ${this.config.limit} artworks reached`;
      case 'max_images':
        return `max_images ${this.config.max_images ?? ''} reached`;
      default:
        return 'end of the listing';
    }
  }

  private result(): CrawlResult {
    return {
      summary: this.summary(),
      ...this.counts,
      requests: this.client.requests,
      output_dir: this.dir,
      stopped_by: this.stoppedBy,
    };
  }
}

function parsePages(
  body: unknown,
  artwork: Artwork,
): { url: string; width: number | null; height: number | null }[] {
  const list = Array.isArray(body) ? body : [];
  const pages = list
    .map((page) => ({
      url: field(field(page, 'urls'), 'original'),
      width: field(page, 'width'),
      height: field(page, 'height'),
    }))
    .filter(
      (page): page is { url: string; width: unknown; height: unknown } =>
        typeof page.url === 'string' && /^https?:\/\//.test(page.url),
    )
    .map((page) => ({
      url: page.url,
      width: typeof page.width === 'number' ? page.width : null,
      height: typeof page.height === 'number' ? page.height : null,
    }));
  if (pages.length > 0) return pages;
  // No page list (an older answer shape): page N is page 0's URL with `_pN`.
  const original = artwork.original ?? '';
  return Array.from({ length: artwork.pageCount }, (_, page) => ({
    url: pageUrl(original, page),
    width: null,
    height: null,
  }));
}

/** The whole cookie, and each of its values long enough to be worth hiding. */
function cookieSecrets(cookie: string | null): string[] {
  if (!cookie) return [];
  const values = cookie
    .split(';')
    .map((pair) => pair.slice(pair.indexOf('=') + 1).trim())
    .filter((value) => value.length >= 6);
  return [cookie, ...values].sort((a, b) => b.length - a.length);
}

async function removeLeftovers(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (PARTIAL_FILE.test(name)) await rm(join(dir, name), { force: true });
  }
}

function describeSource(source: Record<string, string | number | boolean>): string {
  switch (source.crawl_type) {
    case 'tag':
      return `tag search "${String(source.query)}" (${String(source.order)}, ${String(source.mode)})`;
    case 'user':
      return `user ${String(source.user_id)}`;
    case 'illust':
      return `artwork ${String(source.illust_id)}`;
    default:
      return `ranking ${String(source.ranking_mode)}${source.date ? ` of ${String(source.date)}` : ''}`;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message || error.name : String(error);
}
