import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { zipSync } from 'fflate';
import sharp from 'sharp';

/**
 * A fake Pixiv on 127.0.0.1: the web AJAX API (`/ajax/search/artworks`, `/ajax/user/{id}/profile/all`,
 * `/ajax/illust/{id}`, `/pages`, `/ugoira_meta`, `/ranking.php`) on one server, and the image
 * host (i.pximg.net) on another, so the two are different origins as in production. Like the real
 * image host it refuses requests without `Referer: https://www.pixiv.net/` (403).
 *
 * Every request is recorded with its arrival and end times (the end is when the answer was fully
 * written, or the connection closed), its headers, and whether the answer completed. Faults can be
 * injected per path: an HTTP status (429 with or without `Retry-After`, 503…), or a
 * `{"error": true}` body. Works may be deleted (404) or R-18 (null URLs without the session cookie).
 */

export interface RecordedRequest {
  host: 'api' | 'image';
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  start: number;
  end: number;
  status: number;
  /** The whole answer was written (false when the client went away first). */
  completed: boolean;
}

export interface FakeTag {
  tag: string;
  en?: string;
}

export interface FakeWork {
  id: string;
  title: string;
  userId: string;
  userName: string;
  tags: FakeTag[];
  illustType: 0 | 1 | 2;
  bookmarkCount: number;
  likeCount: number;
  viewCount: number;
  aiType: 0 | 1 | 2;
  xRestrict: 0 | 1 | 2;
  createDate: string;
  /** Bytes of each page (ugoira: the zip). */
  pages: Buffer[];
  /** Extension of each page's file. */
  exts: string[];
  deleted: boolean;
  /** Ugoira frames with their delays (ms), in the zip's order. */
  frames?: { file: string; delay: number }[];
}

export interface Fault {
  /** Matches the request path (query included). */
  path: RegExp;
  /** How many matching requests fail (default 1). */
  times?: number;
  status?: number;
  retryAfter?: string;
  /** JSON body to answer with (e.g. `{error: true, message}` with status 200). */
  body?: unknown;
}

export interface FakePixivOptions {
  /** The session cookie that reveals R-18 works' URLs. */
  sessionCookie?: string;
  /** Write image bodies in this many chunks with this pause between them (to stop mid-download). */
  imageChunks?: number;
  imageChunkDelayMs?: number;
}

const REFERER = 'https://www.pixiv.net/';
const PAGE_SIZE = 60;
const RANKING_PAGE_SIZE = 50;

export class FakePixiv {
  readonly requests: RecordedRequest[] = [];
  readonly works = new Map<string, FakeWork>();
  /** Search word → ids in result order; ads are inserted on every page. */
  readonly searches = new Map<string, string[]>();
  /** User id → illust and manga ids, and whether an empty list is served as `[]` (Pixiv does). */
  readonly users = new Map<string, { illusts: string[]; manga: string[] }>();
  /** `mode|content|date` → ids in rank order. */
  readonly rankings = new Map<string, string[]>();
  private readonly faults: (Fault & { left: number })[] = [];
  private inFlight = 0;
  /** Most requests ever open at the same time, on both hosts together. */
  maxInFlight = 0;
  options: FakePixivOptions;

  private constructor(
    private readonly api: Server,
    private readonly images: Server,
    options: FakePixivOptions,
  ) {
    this.options = options;
  }

  static async start(options: FakePixivOptions = {}): Promise<FakePixiv> {
    const api = createServer();
    const images = createServer();
    const fake = new FakePixiv(api, images, options);
    api.on('request', (req, res) => void fake.handle('api', req, res));
    images.on('request', (req, res) => void fake.handle('image', req, res));
    api.listen(0, '127.0.0.1');
    images.listen(0, '127.0.0.1');
    await Promise.all([once(api, 'listening'), once(images, 'listening')]);
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.api.address() as AddressInfo).port}`;
  }

  get imageUrl(): string {
    return `http://127.0.0.1:${(this.images.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.api.closeAllConnections();
    this.images.closeAllConnections();
    await Promise.all([
      new Promise((resolve) => this.api.close(resolve)),
      new Promise((resolve) => this.images.close(resolve)),
    ]);
  }

  /** Add a work with random page bytes (ugoira: a real zip of real JPEG frames). */
  async addWork(id: string | number, fields: Partial<FakeWork> & { pageCount?: number } = {}) {
    const key = String(id);
    const illustType = fields.illustType ?? 0;
    let pages = fields.pages;
    let exts = fields.exts;
    let frames = fields.frames;
    if (illustType === 2 && !pages) {
      frames ??= [
        { file: '000000.jpg', delay: 100 },
        { file: '000001.jpg', delay: 250 },
        { file: '000002.jpg', delay: 40 },
      ];
      const entries: Record<string, Uint8Array> = {};
      for (const [index, frame] of frames.entries()) {
        entries[frame.file] = await sharp({
          create: {
            width: 16,
            height: 12,
            channels: 3,
            background: { r: (index * 70) % 256, g: 40, b: 200 },
          },
        })
          .jpeg()
          .toBuffer();
      }
      pages = [Buffer.from(zipSync(entries))];
      exts = ['zip'];
    }
    const pageCount = fields.pageCount ?? pages?.length ?? 1;
    pages ??= Array.from({ length: pageCount }, () =>
      randomBytes(2048 + Math.floor(Math.random() * 4096)),
    );
    exts ??= pages.map((_, page) => (page === 0 ? 'png' : 'jpg'));
    const work: FakeWork = {
      id: key,
      title: `work ${key}`,
      userId: '5000',
      userName: 'painter',
      tags: [
        { tag: '風景', en: 'scenery' },
        { tag: 'オリジナル', en: 'original' },
      ],
      bookmarkCount: 100,
      likeCount: 50,
      viewCount: 1000,
      aiType: 1,
      xRestrict: 0,
      createDate: '2026-01-02T03:04:05+00:00',
      deleted: false,
      ...fields,
      illustType,
      pages,
      exts,
      ...(frames ? { frames } : {}),
    };
    this.works.set(key, work);
    return work;
  }

  fail(fault: Fault): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
  }

  apiRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.host === 'api');
  }

  imageRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.host === 'image');
  }

  /** Detail requests (`/ajax/illust/{id}?…`) in order, as ids. */
  detailIds(): string[] {
    return this.apiRequests()
      .map((r) => /^\/ajax\/illust\/(\d+)\?/.exec(r.path)?.[1])
      .filter((id): id is string => id !== undefined);
  }

  originalUrl(work: FakeWork, page: number): string {
    return `${this.imageUrl}/img-original/img/2026/01/02/03/04/05/${work.id}_p${page}.${work.exts[page]}`;
  }

  private async handle(host: 'api' | 'image', req: IncomingMessage, res: ServerResponse) {
    const record: RecordedRequest = {
      host,
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers,
      start: performance.now(),
      end: 0,
      status: 0,
      completed: false,
    };
    this.requests.push(record);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    let ended = false;
    const end = (completed: boolean) => {
      if (ended) return;
      ended = true;
      this.inFlight--;
      record.end = performance.now();
      record.completed = completed;
    };
    res.on('finish', () => end(true));
    res.on('close', () => end(false));
    try {
      const fault = this.faults.find((f) => f.left > 0 && f.path.test(record.path));
      if (fault) {
        fault.left--;
        const status = fault.status ?? 200;
        record.status = status;
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
        res.writeHead(status, headers);
        res.end(JSON.stringify(fault.body ?? { error: true, message: `HTTP ${status}`, body: [] }));
        return;
      }
      if (host === 'image') await this.image(req, res, record);
      else this.ajax(req, res, record);
    } catch (error) {
      record.status = 500;
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error));
    }
  }

  private json(res: ServerResponse, record: RecordedRequest, status: number, body: unknown) {
    record.status = status;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private ok(res: ServerResponse, record: RecordedRequest, body: unknown) {
    this.json(res, record, 200, { error: false, message: '', body });
  }

  private ajax(req: IncomingMessage, res: ServerResponse, record: RecordedRequest) {
    const url = new URL(record.path, this.url);
    const path = url.pathname;
    const hasSession =
      this.options.sessionCookie !== undefined && req.headers.cookie === this.options.sessionCookie;
    let match: RegExpExecArray | null;

    if ((match = /^\/ajax\/search\/artworks\/(.+)$/.exec(path))) {
      const word = decodeURIComponent(match[1] ?? '');
      const ids = this.searches.get(word) ?? [];
      const page = Number(url.searchParams.get('p') ?? '1');
      const slice = ids.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
      const data: unknown[] = slice.map((id) => this.searchEntry(id));
      // An ad container sits among the works on every page, as on pixiv.net.
      if (data.length > 0) data.splice(Math.min(3, data.length), 0, { isAdContainer: true });
      return this.ok(res, record, {
        illustManga: { data, total: ids.length, lastPage: Math.ceil(ids.length / PAGE_SIZE) },
        popular: { recent: [], permanent: [] },
        relatedTags: [],
      });
    }
    if ((match = /^\/ajax\/user\/(\d+)\/profile\/all$/.exec(path))) {
      const user = this.users.get(match[1] ?? '');
      if (!user)
        return this.json(res, record, 404, { error: true, message: 'User not found', body: [] });
      // Pixiv serves an empty collection as `[]` and a full one as an object keyed by id.
      const keyed = (ids: string[]) =>
        ids.length === 0 ? [] : Object.fromEntries(ids.map((id) => [id, null]));
      return this.ok(res, record, {
        illusts: keyed(user.illusts),
        manga: keyed(user.manga),
        novels: [],
        mangaSeries: [],
        pickup: [],
      });
    }
    if ((match = /^\/ajax\/illust\/(\d+)(\/pages|\/ugoira_meta)?$/.exec(path))) {
      const work = this.works.get(match[1] ?? '');
      if (!work || work.deleted)
        return this.json(res, record, 404, {
          error: true,
          message: 'The artwork has been deleted or is private.',
          body: [],
        });
      const hidden = work.xRestrict > 0 && !hasSession;
      if (match[2] === '/pages') {
        return this.ok(
          res,
          record,
          work.pages.map((_, page) => ({
            urls: { original: hidden ? null : this.originalUrl(work, page) },
            width: 800 + page,
            height: 600 + page,
          })),
        );
      }
      if (match[2] === '/ugoira_meta') {
        if (work.illustType !== 2 || hidden)
          return this.json(res, record, 403, { error: true, message: 'forbidden', body: [] });
        return this.ok(res, record, {
          src: `${this.imageUrl}/img-zip-ugoira/img/2026/01/02/${work.id}_ugoira600x600.zip`,
          originalSrc: `${this.imageUrl}/img-zip-ugoira/img/2026/01/02/${work.id}_ugoira1920x1080.zip`,
          mime_type: 'image/jpeg',
          frames: work.frames,
        });
      }
      return this.ok(res, record, this.detail(work, hidden));
    }
    if (path === '/ranking.php') {
      const mode = url.searchParams.get('mode') ?? 'daily';
      const content = url.searchParams.get('content') ?? 'all';
      const date = url.searchParams.get('date') ?? 'latest';
      if (url.searchParams.get('format') !== 'json')
        return this.json(res, record, 400, { error: 'format=json expected' });
      const ids = this.rankings.get(`${mode}|${content}|${date}`);
      if (!ids) return this.json(res, record, 400, { error: 'no such ranking' });
      const page = Number(url.searchParams.get('p') ?? '1');
      const slice = ids.slice((page - 1) * RANKING_PAGE_SIZE, page * RANKING_PAGE_SIZE);
      const last = page * RANKING_PAGE_SIZE >= ids.length;
      return this.json(res, record, 200, {
        contents: slice.map((id, index) => {
          const work = this.works.get(id);
          return {
            illust_id: Number(id),
            title: work?.title ?? '',
            tags: work?.tags.map((t) => t.tag) ?? [],
            illust_type: String(work?.illustType ?? 0),
            rank: (page - 1) * RANKING_PAGE_SIZE + index + 1,
          };
        }),
        mode,
        content,
        page,
        prev: page > 1 ? page - 1 : false,
        next: last ? false : page + 1,
        date: date === 'latest' ? '20261201' : date,
        rank_total: ids.length,
      });
    }
    this.json(res, record, 404, { error: true, message: 'not found', body: [] });
  }

  private searchEntry(id: string): unknown {
    const work = this.works.get(id);
    return {
      id,
      title: work?.title ?? '',
      illustType: work?.illustType ?? 0,
      xRestrict: work?.xRestrict ?? 0,
      tags: work?.tags.map((t) => t.tag) ?? [],
      userId: work?.userId ?? '1',
      pageCount: work?.pages.length ?? 1,
      aiType: work?.aiType ?? 0,
    };
  }

  private detail(work: FakeWork, hidden: boolean): unknown {
    const original = hidden || work.illustType === 2 ? null : this.originalUrl(work, 0);
    return {
      illustId: work.id,
      illustTitle: work.title,
      id: work.id,
      title: work.title,
      description: `about ${work.title}`,
      illustType: work.illustType,
      createDate: work.createDate,
      uploadDate: work.createDate,
      xRestrict: work.xRestrict,
      aiType: work.aiType,
      urls: {
        mini: null,
        thumb: null,
        small: null,
        regular: null,
        original: work.illustType === 2 && !hidden ? this.ugoiraFirstFrame(work) : original,
      },
      tags: {
        authorId: work.userId,
        isLocked: false,
        tags: work.tags.map((t) => ({
          tag: t.tag,
          locked: true,
          ...(t.en ? { translation: { en: t.en } } : {}),
        })),
      },
      userId: work.userId,
      userName: work.userName,
      width: 800,
      height: 600,
      pageCount: work.pages.length,
      bookmarkCount: work.bookmarkCount,
      likeCount: work.likeCount,
      viewCount: work.viewCount,
    };
  }

  private ugoiraFirstFrame(work: FakeWork): string {
    return `${this.imageUrl}/img-original/img/2026/01/02/03/04/05/${work.id}_ugoira0.jpg`;
  }

  private async image(req: IncomingMessage, res: ServerResponse, record: RecordedRequest) {
    if (req.headers.referer !== REFERER) {
      record.status = 403;
      res.writeHead(403, { 'content-type': 'text/html' });
      res.end('<h1>403 Forbidden</h1>');
      return;
    }
    const page = /\/(\d+)_p(\d+)\.\w+$/.exec(record.path);
    const zip = /\/(\d+)_ugoira1920x1080\.zip$/.exec(record.path);
    const work = this.works.get((page ?? zip)?.[1] ?? '');
    const bytes = work && (zip ? work.pages[0] : work.pages[Number(page?.[2])]);
    if (!work || !bytes || work.deleted) {
      record.status = 404;
      res.writeHead(404);
      res.end();
      return;
    }
    record.status = 200;
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': bytes.length,
    });
    const chunks = this.options.imageChunks ?? 1;
    const size = Math.ceil(bytes.length / chunks);
    for (let offset = 0; offset < bytes.length; offset += size) {
      if (res.destroyed) return;
      res.write(bytes.subarray(offset, offset + size));
      if (offset + size < bytes.length) await sleep(this.options.imageChunkDelayMs ?? 0);
    }
    res.end();
  }
}
