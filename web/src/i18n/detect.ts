export const LANGUAGES = ['en', 'zh'] as const;
export type Language = (typeof LANGUAGES)[number];

/** The remembered choice wins; otherwise any Chinese browser language gets 简体中文. */
export function detectLanguage(
  stored: string | null,
  browserLanguages: readonly string[],
): Language {
  if (stored === 'en' || stored === 'zh') return stored;
  for (const language of browserLanguages) {
    const lower = language.toLowerCase();
    if (lower.startsWith('zh')) return 'zh';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

/** BCP 47 tag for Intl formatting of dates and numbers. */
export const LOCALE_TAG: Record<Language, string> = { en: 'en-US', zh: 'zh-CN' };
