import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Prediction } from '../../../src/executors/tag/labels.js';
import { normaliseTagInput } from '../../../src/executors/tag/schema.js';
import {
  formatTag,
  mcutThreshold,
  selectTags,
  type SelectOptions,
} from '../../../src/executors/tag/select.js';
import { parseInterrogateResponse } from '../../../src/executors/tag/webui.js';
import { parseSelectedTags, predictionOf } from '../../../src/executors/tag/wd14/labels.js';

const DEFAULTS: SelectOptions = {
  threshold: 0.35,
  character_threshold: 0.85,
  mcut: false,
  tag_order: 'score',
  character_first: true,
  replace_underscores: true,
  escape_brackets: false,
  include_rating: false,
};

const prediction: Prediction = {
  tags: [
    { name: '1girl', score: 0.98, category: 'general' },
    { name: 'long_hair', score: 0.9, category: 'general' },
    { name: 'smile', score: 0.5, category: 'general' },
    { name: 'open_mouth', score: 0.36, category: 'general' },
    { name: 'hat', score: 0.34, category: 'general' },
    { name: '^_^', score: 0.6, category: 'general' },
    { name: 'hatsune_miku', score: 0.9, category: 'character' },
    { name: 'kaname_madoka_(cosplay)', score: 0.86, category: 'character' },
    { name: 'rem_(re:zero)', score: 0.84, category: 'character' },
  ],
  rating: { general: 0.1, sensitive: 0.8, questionable: 0.07, explicit: 0.03 },
};

const caption = (options: Partial<SelectOptions> = {}): string =>
  selectTags(prediction, { ...DEFAULTS, ...options }).caption;

describe('tag selection', () => {
  test('default thresholds keep general ≥ 0.35 and characters ≥ 0.85, characters first, by score', () => {
    assert.equal(
      caption(),
      'hatsune miku, kaname madoka (cosplay), 1girl, long hair, ^_^, smile, open mouth',
    );
  });

  test('a score equal to the threshold is kept, one just below is not', () => {
    assert.equal(caption({ threshold: 0.5 }).includes('smile'), true);
    assert.equal(caption({ threshold: 0.5000001 }).includes('smile'), false);
    assert.equal(
      caption({ character_threshold: 0.84 }).startsWith(
        'hatsune miku, kaname madoka (cosplay), rem (re:zero), ',
      ),
      true,
    );
  });

  test('MCut takes the midpoint of the largest gap, and at least 0.15 for characters', () => {
    assert.equal(mcutThreshold([0.9, 0.85, 0.3, 0.2]), (0.85 + 0.3) / 2);
    assert.equal(mcutThreshold([0.5]), null);
    const selection = selectTags(prediction, { ...DEFAULTS, mcut: true, threshold: 0.99 });
    // General: 0.98 0.9 0.6 0.5 0.36 0.34 → the largest gap is 0.9 → 0.6, cut at 0.75.
    assert.equal(selection.thresholds.general, 0.75);
    // Characters: 0.9 0.86 0.84 → largest gap 0.9 → 0.86, cut at 0.88.
    assert.ok(Math.abs(selection.thresholds.character - 0.88) < 1e-9);
    assert.equal(selection.caption, 'hatsune miku, 1girl, long hair');
    const low = selectTags(
      {
        tags: [
          { name: 'a', score: 0.2, category: 'character' },
          { name: 'b', score: 0.01, category: 'character' },
        ],
        rating: {},
      },
      { ...DEFAULTS, mcut: true },
    );
    assert.equal(low.thresholds.character, 0.15);
    assert.equal(low.caption, 'a');
  });

  test('excluded tags never appear, matched with or without underscores', () => {
    assert.equal(
      caption({ exclude_tags: ['long hair', 'open_mouth', 'Hatsune Miku'] }),
      'kaname madoka (cosplay), 1girl, ^_^, smile',
    );
    assert.equal(
      caption({ exclude_tags: ['kaname madoka \\(cosplay\\)'] }).includes('madoka'),
      false,
    );
  });

  test('prepended tags come first, verbatim, and the model does not repeat them', () => {
    assert.equal(
      caption({ prepend_tags: ['sks_style', 'long hair'], threshold: 0.55 }),
      'sks_style, long hair, hatsune miku, kaname madoka (cosplay), 1girl, ^_^',
    );
  });

  test('alphabetical order, and characters mixed in when not first', () => {
    assert.equal(
      caption({ tag_order: 'alpha' }),
      'hatsune miku, kaname madoka (cosplay), 1girl, ^_^, long hair, open mouth, smile',
    );
    assert.equal(
      caption({ character_first: false }),
      // Equal scores (0.9) order by name.
      '1girl, hatsune miku, long hair, kaname madoka (cosplay), ^_^, smile, open mouth',
    );
  });

  test('underscores become spaces except in kaomoji; brackets escaped on request', () => {
    assert.equal(formatTag('^_^', DEFAULTS), '^_^');
    assert.equal(formatTag('>_<', DEFAULTS), '>_<');
    assert.equal(formatTag('0_0', DEFAULTS), '0_0');
    assert.equal(formatTag('long_hair', DEFAULTS), 'long hair');
    assert.equal(
      caption({ escape_brackets: true, threshold: 0.55 }),
      'hatsune miku, kaname madoka \\(cosplay\\), 1girl, long hair, ^_^',
    );
    assert.equal(
      caption({ replace_underscores: false, threshold: 0.55 }),
      'hatsune_miku, kaname_madoka_(cosplay), 1girl, long_hair, ^_^',
    );
  });

  test('include_rating adds the top rating after the prepended tags', () => {
    assert.equal(
      caption({ include_rating: true, prepend_tags: ['trigger'], threshold: 0.95 }),
      'trigger, sensitive, hatsune miku, kaname madoka (cosplay), 1girl',
    );
  });

  test('selected_tags.csv rows become ratings, characters and general tags in output order', () => {
    const labels = parseSelectedTags(
      'tag_id,name,category,count\n9999999,general,9,1\n1,"odd,name",0,5\n2,rem_(re:zero),4,3\n',
    );
    assert.deepEqual(labels, [
      { name: 'general', kind: 'rating' },
      { name: 'odd,name', kind: 'general' },
      { name: 'rem_(re:zero)', kind: 'character' },
    ]);
    assert.deepEqual(predictionOf(labels, [0.5, 0.25, 0.75]), {
      rating: { general: 0.5 },
      tags: [
        { name: 'odd,name', score: 0.25, category: 'general' },
        { name: 'rem_(re:zero)', score: 0.75, category: 'character' },
      ],
    });
  });

  test('the original names are accepted: wd14tagger, skip_tags and extend_tags (lists or comma strings)', () => {
    assert.deepEqual(
      normaliseTagInput({
        input_dir: 'x',
        analyzer: 'wd14tagger',
        skip_tags: 'a, b_c,',
        extend_tags: ['t1'],
      }),
      { input_dir: 'x', analyzer: 'wd14', exclude_tags: ['a', 'b_c'], prepend_tags: ['t1'] },
    );
  });
});

describe('WebUI tagger answers', () => {
  test('the flat shape: rating classes mixed in with tags are read as ratings, never as tags', () => {
    const p = parseInterrogateResponse({
      caption: {
        general: 0.2,
        sensitive: 0.7,
        questionable: 0.05,
        explicit: 0.01,
        '1girl': 0.9,
        smile: 0.5,
      },
    });
    assert.deepEqual(p.rating, {
      general: 0.2,
      sensitive: 0.7,
      questionable: 0.05,
      explicit: 0.01,
    });
    assert.deepEqual(
      p.tags.map((t) => t.name),
      ['1girl', 'smile'],
    );
  });

  test('the nested shape {tag, rating}', () => {
    const p = parseInterrogateResponse({
      caption: { tag: { '1girl': 0.9, general: 0.6 }, rating: { explicit: 0.9 } },
    });
    // A tag literally named like a rating class is a rating in either shape.
    assert.deepEqual(p.rating, { general: 0.6, explicit: 0.9 });
    assert.deepEqual(p.tags, [{ name: '1girl', score: 0.9, category: 'general' }]);
  });

  test('an answer without a caption object is refused', () => {
    assert.throws(() => parseInterrogateResponse({ captions: {} }), /without a caption/);
  });
});
