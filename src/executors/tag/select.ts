/**
 * From scores to a caption, the rules of kohya's `tag_images_by_wd14_tagger.py` and SmilingWolf's
 * reference tagger:
 *
 * - a general tag is kept when its score ≥ `threshold`, a character tag when ≥
 *   `character_threshold`; with `mcut` both thresholds come from MCut (the midpoint of the largest
 *   gap between consecutive sorted scores), the character one never below 0.15;
 * - excluded tags never appear, matched with and without underscore replacement;
 * - caption order: prepended tags (verbatim), the top rating tag if asked, characters (if
 *   `character_first`), then general tags, each by score (ties by name) or alphabetically;
 * - a model tag equal to a prepended tag is not repeated;
 * - underscores become spaces except in kaomoji (`^_^` stays), then brackets may be escaped.
 */
import type { Prediction, ScoredTag } from './labels.js';

export interface SelectOptions {
  threshold: number;
  character_threshold: number;
  mcut: boolean;
  exclude_tags?: readonly string[] | undefined;
  prepend_tags?: readonly string[] | undefined;
  tag_order: 'score' | 'alpha';
  character_first: boolean;
  replace_underscores: boolean;
  escape_brackets: boolean;
  include_rating: boolean;
}

export interface Selection {
  caption: string;
  /** The model's tags in the caption, in caption order, with their raw names. */
  tags: ScoredTag[];
  rating: Record<string, number>;
  /** The top rating class, or null when the tagger gave none. */
  top_rating: string | null;
  /** The thresholds actually applied (MCut replaces the configured ones). */
  thresholds: { general: number; character: number };
}

/** Kaomoji whose underscore is part of the face (SmilingWolf's list). */
export const KAOMOJI: ReadonlySet<string> = new Set([
  '0_0',
  '(o)_(o)',
  '+_+',
  '+_-',
  '._.',
  '<o>_<o>',
  '<|>_<|>',
  '=_=',
  '>_<',
  '3_3',
  '6_9',
  '>_o',
  '@_@',
  '^_^',
  'o_o',
  'u_u',
  'x_x',
  '|_|',
  '||_||',
]);

/** MCut (Largeron et al. 2012): the midpoint of the largest drop in the sorted scores. */
export function mcutThreshold(scores: readonly number[]): number | null {
  if (scores.length < 2) return null;
  const sorted = [...scores].sort((a, b) => b - a);
  let best = 0;
  let at = 0;
  for (let i = 0; i < sorted.length - 1; i++) {
    const gap = sorted[i]! - sorted[i + 1]!;
    if (gap > best) {
      best = gap;
      at = i;
    }
  }
  return (sorted[at]! + sorted[at + 1]!) / 2;
}

export function formatTag(
  name: string,
  options: Pick<SelectOptions, 'replace_underscores' | 'escape_brackets'>,
): string {
  let text = name;
  if (options.replace_underscores && !KAOMOJI.has(name)) text = text.replaceAll('_', ' ');
  if (options.escape_brackets) text = text.replace(/(?<!\\)([()])/g, '\\$1');
  return text;
}

/**
 * The form two spellings of one tag share: `long_hair`, `long hair` and `Long Hair` match, and so
 * do `rem_(re:zero)` and `rem \(re:zero\)`.
 */
function matchKey(tag: string): string {
  return tag
    .trim()
    .replace(/\\([()])/g, '$1')
    .replaceAll('_', ' ')
    .toLowerCase();
}

const byScore = (a: ScoredTag, b: ScoredTag): number =>
  b.score - a.score || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const byName = (a: ScoredTag, b: ScoredTag): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : b.score - a.score;

export function selectTags(prediction: Prediction, options: SelectOptions): Selection {
  const general = prediction.tags.filter((t) => t.category === 'general');
  const characters = prediction.tags.filter((t) => t.category === 'character');
  let generalThreshold = options.threshold;
  let characterThreshold = options.character_threshold;
  if (options.mcut) {
    generalThreshold = mcutThreshold(general.map((t) => t.score)) ?? generalThreshold;
    const cut = mcutThreshold(characters.map((t) => t.score));
    characterThreshold = cut === null ? characterThreshold : Math.max(0.15, cut);
  }

  const prepend = (options.prepend_tags ?? []).map((t) => t.trim()).filter((t) => t !== '');
  const excluded = new Set((options.exclude_tags ?? []).map(matchKey));
  const taken = new Set(prepend.map(matchKey));
  const keep = (tag: ScoredTag, threshold: number): boolean =>
    tag.score >= threshold && !excluded.has(matchKey(tag.name)) && !taken.has(matchKey(tag.name));

  const order = options.tag_order === 'alpha' ? byName : byScore;
  const keptCharacters = characters.filter((t) => keep(t, characterThreshold));
  const keptGeneral = general.filter((t) => keep(t, generalThreshold));
  const ordered = options.character_first
    ? [...keptCharacters.sort(order), ...keptGeneral.sort(order)]
    : [...keptCharacters, ...keptGeneral].sort(order);

  const ratings = Object.entries(prediction.rating).sort((a, b) => b[1] - a[1]);
  const topRating = ratings[0]?.[0] ?? null;
  const words: string[] = [...prepend];
  const seen = new Set(prepend.map(matchKey));
  const add = (text: string): void => {
    // Two model tags can format alike (`a_b` and `a b`); a caption names a tag once.
    const key = matchKey(text);
    if (seen.has(key)) return;
    seen.add(key);
    words.push(text);
  };
  if (options.include_rating && topRating !== null && !excluded.has(matchKey(topRating))) {
    add(formatTag(topRating, options));
  }
  for (const tag of ordered) add(formatTag(tag.name, options));

  return {
    caption: words.join(', '),
    tags: ordered,
    rating: prediction.rating,
    top_rating: topRating,
    thresholds: { general: generalThreshold, character: characterThreshold },
  };
}
