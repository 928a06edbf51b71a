import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { detectLanguage } from '../../web/src/i18n/detect.js';
import { en } from '../../web/src/i18n/en.js';
import { zh } from '../../web/src/i18n/zh.js';

function sources(dir: string, suffix: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory()
      ? sources(path, suffix)
      : path.endsWith(suffix)
        ? [path]
        : [];
  });
}

const moduleConsoles = readdirSync('src/executors')
  .map((type) => join('src/executors', type, 'console'))
  .filter((dir) => {
    try {
      return statSync(dir).isDirectory();
    } catch {
      return false;
    }
  });

const missing = (from: Record<string, string>, into: Record<string, string>) =>
  Object.keys(from).filter((key) => !(key in into));

describe('translations', () => {
  test('the shell catalogues have the same keys in English and Chinese, none empty', () => {
    assert.deepEqual(missing(en, zh), [], 'keys missing from zh.ts');
    assert.deepEqual(missing(zh, en), [], 'keys missing from en.ts');
    for (const [key, text] of Object.entries(zh)) assert.ok(text.trim(), `zh ${key} is empty`);
  });

  test("every module's console messages have the same keys in both languages", async () => {
    assert.ok(moduleConsoles.length > 0, 'no module console found');
    for (const dir of moduleConsoles) {
      const { default: module } = (await import(`../../${dir}/index.tsx`)) as {
        default: {
          type: string;
          messages?: { en: Record<string, string>; zh: Record<string, string> };
        };
      };
      assert.ok(module.messages, `${dir} brings no messages`);
      assert.deepEqual(missing(module.messages.en, module.messages.zh), [], `${module.type}: zh`);
      assert.deepEqual(missing(module.messages.zh, module.messages.en), [], `${module.type}: en`);
    }
  });

  test('interpolations name the same values in both languages', () => {
    const names = (text: string) => [...text.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(en) as (keyof typeof en)[])
      assert.deepEqual(names(zh[key]), names(en[key]), key);
  });

  test('no JSX text is left untranslated in the console or the module pages', () => {
    const files = [
      ...sources('web/src', '.tsx'),
      ...moduleConsoles.flatMap((dir) => sources(dir, '.tsx')),
    ];
    const offenders: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      // Text between a closing `>` and the next `<` with at least one word in it, outside braces.
      for (const match of text.matchAll(/(?<![=-])>([^<>{}()=;]*?)</g)) {
        const content = match[1]!.trim();
        if (/[A-Za-z\u4e00-\u9fff]{2,}/.test(content) && !/^[-–—→←×+:\d\s]+$/.test(content))
          offenders.push(`${file}: ${content}`);
      }
    }
    assert.deepEqual(offenders, []);
  });

  test('the language comes from the remembered choice, else from the browser', () => {
    assert.equal(detectLanguage(null, ['zh-CN', 'en']), 'zh');
    assert.equal(detectLanguage(null, ['zh-TW']), 'zh');
    assert.equal(detectLanguage(null, ['fr-FR', 'en-GB']), 'en');
    assert.equal(detectLanguage(null, ['fr-FR']), 'en');
    assert.equal(detectLanguage('en', ['zh-CN']), 'en');
    assert.equal(detectLanguage('zh', ['en-US']), 'zh');
    assert.equal(detectLanguage('de', ['zh-CN']), 'zh');
  });
});
