/**
 * The artworks a crawl considers, in order, read lazily: a search or ranking page is requested only
 * when the crawl has used up the previous one and still wants more, so `limit` bounds the requests
 * too. Each candidate carries what the listing already says about it (type, AI flag, tags), which
 * lets the crawl skip a filtered-out work without asking for its details.
 */
import { field, idOf } from './answers.js';
import type { PixivClient } from './pixiv-client.js';
import type { CrawlConfig } from './schema.js';

export interface Candidate {
  id: string;
  /** From the listing, when it tells: enough to apply the type and AI filters early. */
  illustType?: number;
  aiType?: number;
  tags?: string[];
}

export interface Listing {
  /** How many artworks the listing holds, once known (search total, profile size, ranking size). */
  total: number | null;
  candidates: AsyncIterable<Candidate>;
  /** What found the works, for the sidecars. */
  source: Record<string, string | number | boolean>;
}

/** A search page holds this many works; fewer means it was the last. */
export const SEARCH_PAGE_SIZE = 60;

export function listingFor(client: PixivClient, config: CrawlConfig): Listing {
  switch (config.crawl_type) {
    case 'tag':
      return tagListing(client, config);
    case 'user':
      return userListing(client, config);
    case 'illust':
      return {
        total: 1,
        candidates: (async function* () {
          yield { id: config.illust_id ?? '' };
        })(),
        source: { crawl_type: 'illust', illust_id: config.illust_id ?? '' },
      };
    case 'ranking':
      return rankingListing(client, config);
  }
}

function tagListing(client: PixivClient, config: CrawlConfig): Listing {
  const word = config.query ?? '';
  const listing: Pick<Listing, 'total' | 'source'> = {
    total: null,
    source: {
      crawl_type: 'tag',
      query: word,
      order: config.order,
      mode: config.mode,
      search_mode: config.search_mode,
    },
  };
  const candidates = (async function* () {
    const seen = new Set<string>();
    for (let page = 1; ; page++) {
      const query = new URLSearchParams({
        word,
        order: config.order,
        mode: config.mode,
        p: String(page),
        s_mode: config.search_mode,
        type: 'all',
        lang: 'en',
      });
      const body = await client.ajax(
        `/ajax/search/artworks/${encodeURIComponent(word)}?${query.toString()}`,
      );
      const illustManga = field(body, 'illustManga');
      const total = field(illustManga, 'total');
      if (typeof total === 'number') listing.total = total;
      const data = field(illustManga, 'data');
      const entries = Array.isArray(data) ? data : [];
      let works = 0;
      for (const entry of entries) {
        // Ad containers (`isAdContainer`) and other fillers have no id.
        const id = idOf(field(entry, 'id'));
        if (id === null) continue;
        works++;
        // Results shift while new works are posted: a work seen on an earlier page is not repeated.
        if (seen.has(id)) continue;
        seen.add(id);
        const illustType = field(entry, 'illustType');
        const aiType = field(entry, 'aiType');
        yield {
          id,
          ...(typeof illustType === 'number' ? { illustType } : {}),
          ...(typeof aiType === 'number' ? { aiType } : {}),
          ...tagsField(field(entry, 'tags')),
        };
      }
      if (works < SEARCH_PAGE_SIZE) return;
    }
  })();
  return Object.assign(listing, { candidates });
}

function userListing(client: PixivClient, config: CrawlConfig): Listing {
  const userId = config.user_id ?? '';
  const listing: Pick<Listing, 'total' | 'source'> = {
    total: null,
    source: { crawl_type: 'user', user_id: userId, include_manga: config.include_manga },
  };
  const candidates = (async function* () {
    const body = await client.ajax(`/ajax/user/${userId}/profile/all`);
    const illusts = idsOf(field(body, 'illusts')).map((id) => ({ id, illustType: 0 }));
    const manga = config.include_manga
      ? idsOf(field(body, 'manga')).map((id) => ({ id, illustType: 1 }))
      : [];
    // Newest first: ids grow with time. Ugoira are listed with illusts; the details tell them apart.
    const all = [...illusts, ...manga].sort((a, b) => compareIdsDescending(a.id, b.id));
    listing.total = all.length;
    for (const { id, illustType } of all) {
      yield illustType === 1 ? { id, illustType } : { id };
    }
  })();
  return Object.assign(listing, { candidates });
}

function rankingListing(client: PixivClient, config: CrawlConfig): Listing {
  const listing: Pick<Listing, 'total' | 'source'> = {
    total: null,
    source: {
      crawl_type: 'ranking',
      ranking_mode: config.ranking_mode,
      content: config.content,
      ...(config.date ? { date: config.date } : {}),
    },
  };
  const candidates = (async function* () {
    const seen = new Set<string>();
    for (let page = 1; ; page++) {
      const query = new URLSearchParams({ mode: config.ranking_mode });
      // The overall ranking is the one without a content parameter.
      if (config.content !== 'all') query.set('content', config.content);
      if (config.date) query.set('date', config.date);
      query.set('p', String(page));
      query.set('format', 'json');
      const body = await client.json(`/ranking.php?${query.toString()}`);
      const total = field(body, 'rank_total');
      if (typeof total === 'number') listing.total = total;
      const contents = field(body, 'contents');
      for (const entry of Array.isArray(contents) ? contents : []) {
        const id = idOf(field(entry, 'illust_id'));
        if (id === null || seen.has(id)) continue;
        seen.add(id);
        const type = Number(field(entry, 'illust_type'));
        yield {
          id,
          ...(Number.isInteger(type) ? { illustType: type } : {}),
          ...tagsField(field(entry, 'tags')),
        };
      }
      const next = field(body, 'next');
      if (typeof next !== 'number' || next <= page) return;
    }
  })();
  return Object.assign(listing, { candidates });
}

/** A profile's `illusts` / `manga`: an object keyed by id (values null), or `[]` when empty. */
function idsOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(idOf).filter((id): id is string => id !== null);
  if (typeof value === 'object' && value !== null)
    return Object.keys(value).filter((id) => idOf(id) !== null);
  return [];
}

function compareIdsDescending(a: string, b: string): number {
  return a.length !== b.length ? b.length - a.length : b < a ? -1 : b > a ? 1 : 0;
}

function tagsField(value: unknown): { tags?: string[] } {
  if (!Array.isArray(value)) return {};
  return { tags: value.filter((tag): tag is string => typeof tag === 'string') };
}
