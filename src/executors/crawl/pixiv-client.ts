/**
 * Every request a crawl makes to Pixiv — AJAX API and image host alike — goes through one
 * `PixivClient`, which owns the rules that keep an account out of trouble:
 *
 * - **One request at a time, `delay` between any two.** The gap is measured from the end of one
 *   response (its body fully read) to the start of the next, with up to 25% jitter added, never
 *   subtracted, so the gap is never shorter than `delay`.
 * - **Back-off.** 429 and 5xx are retried: `Retry-After` (seconds or an HTTP date) is honoured;
 *   without it a 429 waits `rateLimitWaitMs` (~1 min) and a 5xx or a broken connection waits
 *   `serverErrorWaitMs` (~2 s), each doubling per retry. After `maxTries` the request fails with
 *   a `PixivRequestError` — the caller counts it and goes on.
 * - **The cookie goes to the API's origin only**, never to the image host (unless it is the same
 *   origin); images carry the `Referer` the image host insists on.
 * - **Abort is immediate**: the task's signal aborts the in-flight request and every wait.
 * - **Downloads are atomic**: bytes go to `<name>.part`, the length is checked against
 *   Content-Length, then the file is renamed; on any failure or abort the `.part` file is removed.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HttpClient } from '../../scheduler/executor.js';

export interface CrawlTiming {
  /** First wait after a 429 without Retry-After; doubles with each retry. */
  rateLimitWaitMs: number;
  /** First wait after a 5xx or a failed connection without Retry-After; doubles with each retry. */
  serverErrorWaitMs: number;
  /** A longer Retry-After is cut to this (a misconfigured server must not park the lane for days). */
  maxRetryAfterMs: number;
  /** Tries of one request (the first included) before it counts as failed. */
  maxTries: number;
  /** Longest an API request may take. */
  requestTimeoutMs: number;
  /** Longest one image download may take, body included (originals reach tens of MB). */
  downloadTimeoutMs: number;
}

export const DEFAULT_TIMING: CrawlTiming = {
  rateLimitWaitMs: 60_000,
  serverErrorWaitMs: 2_000,
  maxRetryAfterMs: 15 * 60_000,
  maxTries: 5,
  requestTimeoutMs: 30_000,
  downloadTimeoutMs: 10 * 60_000,
};

/** The image host (i.pximg.net) refuses requests without this Referer. */
export const PIXIV_REFERER = 'https://www.pixiv.net/';
const USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36';
/** Extra gap on top of `delay`, as a fraction of it: requests never arrive at a fixed rhythm. */
const JITTER = 0.25;

export type PixivFailureKind = 'http' | 'api' | 'network' | 'length';

/** A request that failed for good (after its retries, or at once for a 4xx or an API error). */
export class PixivRequestError extends Error {
  override name = 'PixivRequestError';

  constructor(
    message: string,
    readonly kind: PixivFailureKind,
    readonly status: number | null = null,
  ) {
    super(message);
  }

  /** Deleted, private or restricted for this session: 403/404. */
  get gone(): boolean {
    return this.kind === 'http' && (this.status === 403 || this.status === 404);
  }
}

export interface PixivClientOptions {
  apiBase: string;
  cookie: string | null;
  delayMs: number;
  http: HttpClient;
  signal: AbortSignal;
  timing: CrawlTiming;
  /** Told about every retry (the crawl logs it). */
  onRetry?: (what: string, reason: string, waitMs: number) => void;
}

type Attempt<T> =
  | { ok: true; value: T }
  | { ok: false; error: PixivRequestError; retryAfterMs: number | null; rateLimited: boolean };

export class PixivClient {
  readonly apiBase: string;
  private readonly apiOrigin: string;
  private lastEnd = Number.NEGATIVE_INFINITY;
  private busy = false;
  /** Requests sent, retries included (for the result). */
  requests = 0;

  constructor(private readonly options: PixivClientOptions) {
    this.apiBase = options.apiBase.replace(/\/+$/, '');
    this.apiOrigin = new URL(this.apiBase).origin;
  }

  /**
   * A web AJAX call: `{error, message, body}`; `error: true` is a failure of this request with
   * Pixiv's message (not retried: it is an answer, not an outage). Resolves to `body`.
   */
  async ajax(path: string): Promise<unknown> {
    const json = await this.json(path);
    if (!isRecord(json) || typeof json.error !== 'boolean')
      throw new PixivRequestError(`${path}: not a Pixiv API answer`, 'api');
    if (json.error) {
      const message = typeof json.message === 'string' && json.message ? json.message : 'error';
      throw new PixivRequestError(`Pixiv refused ${path}: ${message}`, 'api');
    }
    return json.body;
  }

  /** Any JSON endpoint of the API base (ranking.php answers without the AJAX envelope). */
  json(path: string): Promise<unknown> {
    const url = this.apiBase + path;
    return this.withRetries(path, async () => {
      const response = await this.send(url, {
        accept: 'application/json',
        timeoutMs: this.options.timing.requestTimeoutMs,
      });
      const text = await response.text();
      this.lastEnd = performance.now();
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new PixivRequestError(`${path}: answer is not JSON`, 'api', response.status);
      }
    });
  }

  /**
   * Download `url` to `target` through `<target>.part`. Resolves to the byte count once `target`
   * is complete; nothing but a complete file ever has the final name.
   */
  download(url: string, target: string): Promise<number> {
    const partial = `${target}.part`;
    const name = url.slice(url.lastIndexOf('/') + 1) || url;
    return this.withRetries(name, async () => {
      try {
        const response = await this.send(url, {
          referer: PIXIV_REFERER,
          timeoutMs: this.options.timing.downloadTimeoutMs,
        });
        const expected = Number(response.headers.get('content-length') ?? Number.NaN);
        if (!response.body) throw new PixivRequestError(`${name}: empty answer`, 'length');
        const body = Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>);
        await pipeline(body, createWriteStream(partial), { signal: this.options.signal });
        const received = (await stat(partial)).size;
        if (Number.isFinite(expected) && received !== expected)
          throw new PixivRequestError(
            `${name}: got ${received} of ${expected} bytes (connection cut?)`,
            'length',
          );
        await rename(partial, target);
        return received;
      } catch (error) {
        await rm(partial, { force: true });
        throw error;
      } finally {
        this.lastEnd = performance.now();
      }
    });
  }

  /** Wait out the gap, send one request, and turn a bad status into a `PixivRequestError`. */
  private async send(
    url: string,
    extra: { accept?: string; referer?: string; timeoutMs: number },
  ): Promise<Response> {
    if (this.busy) throw new Error('PixivClient: one request at a time');
    this.busy = true;
    try {
      await this.pace();
      const headers: Record<string, string> = { 'user-agent': USER_AGENT };
      if (extra.accept) headers.accept = extra.accept;
      if (extra.referer) headers.referer = extra.referer;
      // The session must never reach another host: compare origins, not prefixes.
      if (this.options.cookie && new URL(url).origin === this.apiOrigin)
        headers.cookie = this.options.cookie;
      this.requests++;
      let response: Response;
      try {
        response = await this.options.http.fetch(url, {
          headers,
          signal: this.options.signal,
          // The client's timeout covers the body too: a download gets its own, longer one.
          timeoutMs: extra.timeoutMs,
        });
      } catch (error) {
        this.lastEnd = performance.now();
        if (this.options.signal.aborted) throw error;
        throw new PixivRequestError(`${shortUrl(url)}: ${networkMessage(error)}`, 'network');
      }
      if (!response.ok) {
        // Read the answer, so the connection is free and the gap counts from its real end; an
        // API error carries Pixiv's reason ("User not found"), worth a place in the log.
        const text = await response.text().catch(() => '');
        this.lastEnd = performance.now();
        throw new StatusError(
          response.status,
          response.headers.get('retry-after'),
          url,
          reasonOf(text),
        );
      }
      return response;
    } finally {
      this.busy = false;
    }
  }

  private async pace(): Promise<void> {
    const gap = this.options.delayMs * (1 + JITTER * Math.random());
    const wait = this.lastEnd + gap - performance.now();
    if (wait > 0) await sleep(wait, undefined, { signal: this.options.signal });
  }

  private async withRetries<T>(what: string, request: () => Promise<T>): Promise<T> {
    const { timing, signal } = this.options;
    let rateLimited = 0;
    let serverErrors = 0;
    for (let tries = 1; ; tries++) {
      const attempt = await this.attempt(request);
      if (attempt.ok) {
        this.lastEnd = performance.now();
        return attempt.value;
      }
      const { error } = attempt;
      const retryable = error.kind !== 'api' && (error.status === null || error.status >= 500);
      if (!(retryable || attempt.rateLimited) || tries >= timing.maxTries) throw error;
      const backoff = attempt.rateLimited
        ? timing.rateLimitWaitMs * 2 ** rateLimited++
        : timing.serverErrorWaitMs * 2 ** serverErrors++;
      const wait = Math.min(attempt.retryAfterMs ?? backoff, timing.maxRetryAfterMs);
      this.options.onRetry?.(what, error.message, wait);
      // The pacing gap still applies after the wait; the wait itself counts from the failure.
      const remaining = this.lastEnd + wait - performance.now();
      if (remaining > 0) await sleep(remaining, undefined, { signal });
    }
  }

  private async attempt<T>(request: () => Promise<T>): Promise<Attempt<T>> {
    try {
      return { ok: true, value: await request() };
    } catch (error) {
      if (this.options.signal.aborted) throw error;
      if (error instanceof StatusError) {
        return {
          ok: false,
          error: new PixivRequestError(
            `${shortUrl(error.url)}: HTTP ${error.status}${error.reason ? ` (${error.reason})` : ''}`,
            'http',
            error.status,
          ),
          retryAfterMs: parseRetryAfter(error.retryAfter),
          rateLimited: error.status === 429,
        };
      }
      if (error instanceof PixivRequestError)
        return { ok: false, error, retryAfterMs: null, rateLimited: false };
      // A body cut off mid-read, a reset connection: like a 5xx, worth another try.
      return {
        ok: false,
        error: new PixivRequestError(networkMessage(error), 'network'),
        retryAfterMs: null,
        rateLimited: false,
      };
    }
  }
}

class StatusError extends Error {
  constructor(
    readonly status: number,
    readonly retryAfter: string | null,
    readonly url: string,
    readonly reason: string | null,
  ) {
    super(`HTTP ${status}`);
  }
}

/** Pixiv's reason in an error answer: `message` (AJAX) or `error` (ranking.php), kept short. */
function reasonOf(text: string): string | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isRecord(json)) return null;
  const reason = typeof json.message === 'string' && json.message ? json.message : json.error;
  return typeof reason === 'string' && reason ? reason.slice(0, 200) : null;
}

/** `Retry-After: 120` or `Retry-After: Wed, 21 Oct 2026 07:28:00 GMT` → ms from now (≥ 0). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Path and query only: enough to tell requests apart in a log, and never a credential. */
function shortUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.pathname + parsed.search;
  } catch {
    return url;
  }
}

function networkMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message || error.name}${cause}`;
}
