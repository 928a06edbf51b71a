/**
 * Tags as a tagger reports them. WD14's `selected_tags.csv` numbers its categories like Danbooru:
 * 9 rating, 4 character, 0 general (other categories, e.g. 1 artist or 3 copyright in some
 * community models, are written as general tags).
 */
export type TagCategory = 'general' | 'character';

export interface ScoredTag {
  /** As the model names it (`long_hair`); formatting for captions happens in `select.ts`. */
  name: string;
  score: number;
  category: TagCategory;
}

/** Every score of one image: tags (general and character) and the rating classes. */
export interface Prediction {
  tags: ScoredTag[];
  rating: Record<string, number>;
}
