/**
 * An artwork as `/ajax/illust/{id}` describes it, reduced to what a dataset needs, and the filters
 * a crawl applies to it. Parsing is lenient (Pixiv adds and drops fields): anything missing gets a
 * neutral value rather than failing the artwork.
 */
import { field } from './answers.js';
import type { CrawlConfig } from './schema.js';

export interface ArtworkTag {
  tag: string;
  /** English translation when Pixiv has one (`translation.en`). */
  translation: string | null;
}

export interface Artwork {
  id: string;
  title: string;
  description: string;
  /** 0 illustration, 1 manga, 2 ugoira. */
  illustType: number;
  tags: ArtworkTag[];
  userId: string;
  userName: string;
  createDate: string | null;
  uploadDate: string | null;
  bookmarkCount: number;
  likeCount: number;
  viewCount: number;
  pageCount: number;
  /** `urls.original` of page 0; null when this session may not see it (R-18 without a login). */
  original: string | null;
  width: number | null;
  height: number | null;
  /** 0 all ages, 1 R-18, 2 R-18G. */
  xRestrict: number;
  /** 0 unknown, 1 not AI, 2 AI-generated. */
  aiType: number;
}

export const ILLUST_TYPES: Record<number, string> = { 0: 'illust', 1: 'manga', 2: 'ugoira' };
export const RESTRICTIONS: Record<number, string> = { 0: 'all-ages', 1: 'R-18', 2: 'R-18G' };

/** Tags Pixiv's own AI-generated marker and its users' common spelling. */
export const AI_TAGS: readonly string[] = ['AI生成', 'AIイラスト'];

const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const count = (value: unknown): number =>
  typeof value === 'number' && Number.isFinite(value) ? value : 0;
const nullableText = (value: unknown): string | null =>
  typeof value === 'string' && value ? value : null;
const nullableNumber = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;

export function parseArtwork(id: string, body: unknown): Artwork {
  const tagList = field(field(body, 'tags'), 'tags');
  const tags: ArtworkTag[] = (Array.isArray(tagList) ? tagList : [])
    .map((entry) => ({
      tag: text(field(entry, 'tag')),
      translation: nullableText(field(field(entry, 'translation'), 'en')),
    }))
    .filter((tag) => tag.tag !== '');
  const original = field(field(body, 'urls'), 'original');
  return {
    id,
    title: text(field(body, 'title')) || text(field(body, 'illustTitle')),
    description: text(field(body, 'description')),
    illustType: count(field(body, 'illustType')),
    tags,
    userId: String(field(body, 'userId') ?? ''),
    userName: text(field(body, 'userName')),
    createDate: nullableText(field(body, 'createDate')),
    uploadDate: nullableText(field(body, 'uploadDate')),
    bookmarkCount: count(field(body, 'bookmarkCount')),
    likeCount: count(field(body, 'likeCount')),
    viewCount: count(field(body, 'viewCount')),
    pageCount: Math.max(1, count(field(body, 'pageCount'))),
    original: typeof original === 'string' && /^https?:\/\//.test(original) ? original : null,
    width: nullableNumber(field(body, 'width')),
    height: nullableNumber(field(body, 'height')),
    xRestrict: count(field(body, 'xRestrict')),
    aiType: count(field(body, 'aiType')),
  };
}

/** What a filter needs; the listing knows some of it, the details all of it. */
export interface FilterFacts {
  illustType?: number | undefined;
  aiType?: number | undefined;
  tags?: readonly string[] | undefined;
  bookmarkCount?: number | undefined;
}

/** Why a work is left out under this config, or null to keep it. Unknown facts never exclude. */
export function filterReason(facts: FilterFacts, config: CrawlConfig): string | null {
  // An explicitly named artwork is always fetched: the filters choose among listed works.
  if (config.crawl_type === 'illust') return null;
  if (!config.include_manga && facts.illustType === 1) return 'manga (include_manga is off)';
  if (config.exclude_ai) {
    if (facts.aiType === 2) return 'AI-generated (aiType 2)';
    const tag = facts.tags?.find((t) => AI_TAGS.includes(t));
    if (tag !== undefined) return `AI-generated (tagged ${tag})`;
  }
  if (
    config.min_bookmarks > 0 &&
    facts.bookmarkCount !== undefined &&
    facts.bookmarkCount < config.min_bookmarks
  )
    return `${facts.bookmarkCount} bookmarks < min_bookmarks ${config.min_bookmarks}`;
  return null;
}

export function factsOf(artwork: Artwork): FilterFacts {
  return {
    illustType: artwork.illustType,
    aiType: artwork.aiType,
    tags: artwork.tags.map((t) => t.tag),
    bookmarkCount: artwork.bookmarkCount,
  };
}

/** `…/12345_p0.png` → `png`; anything odd → `bin` (the name never comes from the URL otherwise). */
export function extensionOf(url: string): string {
  const path = url.split(/[?#]/, 1)[0] ?? '';
  const match = /\.([A-Za-z0-9]{1,5})$/.exec(path);
  return match?.[1] ? match[1].toLowerCase() : 'bin';
}

/** Page N of a multi-page work shares page 0's URL but for `_pN`. */
export function pageUrl(original: string, page: number): string {
  return original.replace(/_p0(\.[A-Za-z0-9]+)$/, `_p${page}$1`);
}
