/**
 * `selected_tags.csv` of a WD14 model: `tag_id,name,category,count`, one row per output of the
 * model, in output order. Category 9 is a rating class, 4 a character, anything else general.
 */
import { readFile } from 'node:fs/promises';
import { parseCsv } from '../csv.js';
import type { Prediction, TagCategory } from '../labels.js';

export interface Label {
  name: string;
  kind: TagCategory | 'rating';
}

export const RATING_CATEGORY = 9;
export const CHARACTER_CATEGORY = 4;

export function parseSelectedTags(text: string, source = 'selected_tags.csv'): Label[] {
  const rows = parseCsv(text).filter((row) => row.some((field) => field.trim() !== ''));
  const header = (rows[0] ?? []).map((h) => h.trim());
  const nameAt = header.indexOf('name');
  const categoryAt = header.indexOf('category');
  if (nameAt < 0 || categoryAt < 0) {
    throw new Error(`${source}: the header must name the columns "name" and "category"`);
  }
  return rows.slice(1).map((fields, index) => {
    const name = fields[nameAt];
    const category = Number(fields[categoryAt]);
    if (!name || !Number.isInteger(category)) {
      throw new Error(`${source}: row ${index + 2} has no name or no integer category`);
    }
    const kind =
      category === RATING_CATEGORY
        ? 'rating'
        : category === CHARACTER_CATEGORY
          ? 'character'
          : 'general';
    return { name, kind };
  });
}

export async function readSelectedTags(path: string): Promise<Label[]> {
  return parseSelectedTags(await readFile(path, 'utf8'), path);
}

/** One row of model output (scores in label order) as tags and ratings. */
export function predictionOf(labels: readonly Label[], scores: ArrayLike<number>): Prediction {
  const prediction: Prediction = { tags: [], rating: {} };
  labels.forEach((label, i) => {
    const score = scores[i]!;
    if (label.kind === 'rating') prediction.rating[label.name] = score;
    else prediction.tags.push({ name: label.name, score, category: label.kind });
  });
  return prediction;
}
