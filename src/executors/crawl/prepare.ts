/**
 * What a client sent → the stored crawl config, before schema validation, on every create path
 * (`POST /api/crawl/create` and `POST /api/task/create {type:"crawl"}`). The original front-end's
 * spellings are accepted here once, so nothing downstream knows about them:
 * - `type` is an alias of `crawl_type`;
 * - ids may be numbers or digit strings (stored as digit strings);
 * - `query` may list several tags separated by commas or spaces: an AND search, stored joined by
 *   one space (the form Pixiv's `word` takes);
 * - a ranking crawl may name its ranking in `mode` (`daily`, `weekly`…);
 * - `date` may be written YYYY-MM-DD.
 * Then each crawl type's own required field is checked (400 naming it), and `output_dir` is
 * confined to the allowed roots (403), as it will be again when the task runs.
 */
import { ErrorCode, TailorError } from '../../domain/errors.js';
import { confineUserPath, type PathRoots } from '../paths.js';
import { CRAWL_TYPES, RANKING_MODES, type CrawlType } from './schema.js';

const REQUIRED_FIELD: Record<CrawlType, 'query' | 'user_id' | 'illust_id' | null> = {
  tag: 'query',
  user: 'user_id',
  illust: 'illust_id',
  ranking: null,
};

/** Separators between tags: commas (ASCII, full-width, ideographic) and any whitespace. */
const TAG_SEPARATORS = /[,，、\s]+/u;

function fieldError(path: string, message: string): TailorError {
  return new TailorError(ErrorCode.VALIDATION, `invalid config for crawl: ${path} ${message}`, {
    fields: [{ path, message }],
  });
}

const isCrawlType = (value: unknown): value is CrawlType =>
  typeof value === 'string' && (CRAWL_TYPES as readonly string[]).includes(value);

const isRankingMode = (value: unknown): boolean =>
  typeof value === 'string' && (RANKING_MODES as readonly string[]).includes(value);

/** A number id becomes its digits; a string id loses surrounding spaces. Others are left to fail. */
function normaliseId(value: unknown): unknown {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return String(value);
  if (typeof value === 'string') return value.trim();
  return value;
}

export function splitTags(query: string): string[] {
  return query.split(TAG_SEPARATORS).filter((tag) => tag.length > 0);
}

export async function prepareCrawlConfig(input: unknown, roots: PathRoots): Promise<unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const config: Record<string, unknown> = { ...(input as Record<string, unknown>) };

  if ('type' in config) {
    if (config.crawl_type === undefined) config.crawl_type = config.type;
    else if (config.type !== config.crawl_type)
      throw fieldError('/config/type', 'is an alias of crawl_type and must not differ from it');
    delete config.type;
  }
  const crawlType = config.crawl_type;
  if (crawlType === undefined)
    throw fieldError('/config/crawl_type', `is required: one of ${CRAWL_TYPES.join(', ')}`);
  if (!isCrawlType(crawlType))
    throw fieldError('/config/crawl_type', `must be one of ${CRAWL_TYPES.join(', ')}`);

  for (const key of ['user_id', 'illust_id'] as const) {
    if (key in config) config[key] = normaliseId(config[key]);
  }
  if (typeof config.query === 'string') {
    const tags = splitTags(config.query);
    if (tags.length > 0) config.query = tags.join(' ');
    else delete config.query;
  }
  if (typeof config.date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(config.date))
    config.date = config.date.replaceAll('-', '');
  if (crawlType === 'ranking' && isRankingMode(config.mode)) {
    if (config.ranking_mode === undefined) config.ranking_mode = config.mode;
    delete config.mode;
  }

  const required = REQUIRED_FIELD[crawlType];
  if (required !== null && (config[required] === undefined || config[required] === '')) {
    throw fieldError(`/config/${required}`, `is required for a ${crawlType} crawl`);
  }

  if (typeof config.output_dir === 'string')
    await confineUserPath(config.output_dir, roots, 'output_dir');
  return config;
}
