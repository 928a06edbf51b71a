import { Type, type Static } from 'typebox';

/**
 * The config of a `crawl` task, as stored after `prepare` (see `./prepare.ts`) turned what a client
 * sent into this shape: aliases resolved, ids as digit strings, tags joined with a space. Fields
 * with a default are filled in by validation (ajv `useDefaults`), so the executor sees them all.
 */

export const CRAWL_TYPES = ['tag', 'user', 'illust', 'ranking'] as const;
export type CrawlType = (typeof CRAWL_TYPES)[number];

export const SEARCH_ORDERS = [
  'date_d',
  'date',
  'popular_d',
  'popular_male_d',
  'popular_female_d',
] as const;
export const SEARCH_MODES = ['all', 'safe', 'r18'] as const;
export const TAG_MATCHES = ['s_tag_full', 's_tag', 's_tc'] as const;
export const RANKING_MODES = [
  'daily',
  'weekly',
  'monthly',
  'rookie',
  'original',
  'daily_ai',
  'male',
  'female',
  'daily_r18',
  'weekly_r18',
  'male_r18',
  'female_r18',
  'daily_r18_ai',
  'r18g',
] as const;
export const RANKING_CONTENTS = ['all', 'illust', 'manga', 'ugoira'] as const;
export const UGOIRA_OUTPUTS = ['zip', 'webp', 'gif'] as const;

/** Pixiv ids are positive integers; kept as digit strings (some exceed what clients round-trip). */
export const PIXIV_ID_PATTERN = '^[1-9][0-9]{0,19}$';

/**
 * The config's fields. The route body declares them without defaults: Fastify would fill them in
 * before `prepare` runs, and `prepare` must see what the client actually sent (a ranking's `mode`
 * must not lose to a defaulted `ranking_mode`).
 */
function crawlProperties(withDefaults: boolean) {
  const fallback = <T>(value: T): { default?: T } => (withDefaults ? { default: value } : {});
  return {
    crawl_type: Type.Enum([...CRAWL_TYPES], {
      description: 'What to crawl: a tag search, a user’s works, one artwork or a ranking',
    }),
    query: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1000,
        description: 'Tag search words, all required (AND); several tags separated by spaces',
      }),
    ),
    user_id: Type.Optional(
      Type.String({ pattern: PIXIV_ID_PATTERN, description: 'Pixiv user id' }),
    ),
    illust_id: Type.Optional(
      Type.String({ pattern: PIXIV_ID_PATTERN, description: 'Pixiv artwork id' }),
    ),
    order: Type.Optional(
      Type.Enum([...SEARCH_ORDERS], {
        ...fallback('date_d'),
        description: 'Tag search order (popular_* needs a Premium session)',
      }),
    ),
    mode: Type.Optional(
      Type.Enum([...SEARCH_MODES], {
        ...fallback('all'),
        description: 'Tag search: all, safe or R-18 works (R-18 needs a session)',
      }),
    ),
    search_mode: Type.Optional(
      Type.Enum([...TAG_MATCHES], {
        ...fallback('s_tag'),
        description:
          'Tag search match: s_tag_full exact tag, s_tag partial tag, s_tc title/caption',
      }),
    ),
    ranking_mode: Type.Optional(Type.Enum([...RANKING_MODES], { ...fallback('daily') })),
    content: Type.Optional(
      Type.Enum([...RANKING_CONTENTS], { ...fallback('all'), description: 'Ranking content' }),
    ),
    date: Type.Optional(
      Type.String({
        pattern: '^[0-9]{8}$',
        description: 'Ranking date YYYYMMDD (default: the latest ranking)',
      }),
    ),
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100_000,
        ...fallback(100),
        description: 'Artworks to keep (each with every page); filtered-out works do not count',
      }),
    ),
    max_images: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1_000_000,
        description: 'Stop once this many files were downloaded or found complete',
      }),
    ),
    delay: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 600,
        ...fallback(1),
        description:
          'Seconds between any two requests to Pixiv (API or image), plus up to 25% jitter',
      }),
    ),
    cookie: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 8192,
        description: 'Pixiv session cookie for this task; "default" = PIXIV_COOKIE (redacted)',
      }),
    ),
    proxy_url: Type.Optional(
      Type.String({
        pattern: '^https?://[^\\s]+$',
        maxLength: 2048,
        description:
          'HTTP(S) proxy for this task only (instead of TAILOR_PROXY); credentials redacted',
      }),
    ),
    include_manga: Type.Optional(
      Type.Boolean({ ...fallback(true), description: 'Keep manga (illustType 1) works' }),
    ),
    min_bookmarks: Type.Optional(
      Type.Integer({ minimum: 0, ...fallback(0), description: 'Skip works with fewer bookmarks' }),
    ),
    exclude_ai: Type.Optional(
      Type.Boolean({
        ...fallback(false),
        description: 'Skip AI-generated works (aiType 2, or tagged AI生成 / AIイラスト)',
      }),
    ),
    ugoira: Type.Optional(
      Type.Enum([...UGOIRA_OUTPUTS], {
        ...fallback('zip'),
        description: 'Ugoira: the frames zip and delays, plus an animated webp or gif if asked',
      }),
    ),
    output_dir: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 4096,
        description:
          'Dataset folder (relative to the data dir or under TAILOR_IMAGE_ROOTS); default the task folder',
      }),
    ),
  };
}

export const CrawlConfigSchema = Type.Object(crawlProperties(true), {
  additionalProperties: false,
});

export type CrawlConfigInput = Static<typeof CrawlConfigSchema>;
type Defaulted =
  | 'order'
  | 'mode'
  | 'search_mode'
  | 'ranking_mode'
  | 'content'
  | 'limit'
  | 'delay'
  | 'include_manga'
  | 'min_bookmarks'
  | 'exclude_ai'
  | 'ugoira';
/** After validation: every defaulted field is present. */
export type CrawlConfig = Omit<CrawlConfigInput, Defaulted> &
  Required<Pick<CrawlConfigInput, Defaulted>>;

const PixivId = (description: string) =>
  Type.Optional(
    Type.Union([Type.String({ pattern: '^\\s*[0-9]+\\s*$' }), Type.Integer({ minimum: 1 })], {
      description: `${description} (digits or a number)`,
    }),
  );

/**
 * `POST /api/crawl/create`: the task config as the original front-end sends it (`type` for
 * `crawl_type`, ids as numbers) plus `priority`. `prepare` normalises it on every create path, so
 * the same body also works as `config` of `POST /api/task/create`. `crawl_type` is checked by
 * `prepare`, whose 400 lists the allowed values (a schema enum's message would not).
 */
export const CrawlCreateBody = Type.Object(
  {
    ...crawlProperties(false),
    crawl_type: Type.Optional(
      Type.String({ description: `One of ${CRAWL_TYPES.join(', ')} (alias: type)` }),
    ),
    type: Type.Optional(Type.String({ description: 'Alias of crawl_type' })),
    user_id: PixivId('Pixiv user id'),
    illust_id: PixivId('Pixiv artwork id'),
    query: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1000,
        description: 'Tags separated by commas or spaces, all required (AND)',
      }),
    ),
    date: Type.Optional(Type.String({ description: 'Ranking date YYYYMMDD or YYYY-MM-DD' })),
    mode: Type.Optional(
      Type.String({
        description: `Tag search: ${SEARCH_MODES.join(', ')}; ranking crawls also take a ranking mode here`,
      }),
    ),
    priority: Type.Optional(
      Type.Integer({ minimum: -1_000_000, maximum: 1_000_000, description: 'Higher runs first' }),
    ),
  },
  { additionalProperties: false },
);
