import i18next from 'i18next';
import { initReactI18next, useTranslation } from 'react-i18next';
import { readStored, writeStored } from '../prefs/storage.js';
import { LOCALE_TAG, detectLanguage, type Language } from './detect.js';
import { en, type MessageKey } from './en.js';
import { zh } from './zh.js';

export type { Language, MessageKey };

const STORAGE_KEY = 'tailor.language';

/** The shell's strings are the default namespace; each module's messages are a namespace named by its type. */
void i18next.use(initReactI18next).init({
  resources: { en: { translation: en }, zh: { translation: zh } },
  lng: detectLanguage(readStored(STORAGE_KEY), navigator.languages ?? [navigator.language]),
  fallbackLng: 'en',
  // React escapes what it renders; escaping here too would show &amp; in the page.
  interpolation: { escapeValue: false },
  initAsync: false,
});
document.documentElement.lang = LOCALE_TAG[currentLanguage()];

export function currentLanguage(): Language {
  return i18next.language === 'zh' ? 'zh' : 'en';
}

export function setLanguage(language: Language): void {
  writeStored(STORAGE_KEY, language);
  document.documentElement.lang = LOCALE_TAG[language];
  void i18next.changeLanguage(language);
}

export function addModuleMessages(
  namespace: string,
  messages: { en: Record<string, string>; zh: Record<string, string> },
): void {
  i18next.addResourceBundle('en', namespace, messages.en, true, true);
  i18next.addResourceBundle('zh', namespace, messages.zh, true, true);
}

/** The shell's translate function, typed by the catalogue's keys. */
export function useT(): {
  t: (key: MessageKey, values?: Record<string, string | number>) => string;
  language: Language;
} {
  const { t, i18n } = useTranslation();
  return {
    t: (key, values) => t(key, values ?? {}),
    language: i18n.language === 'zh' ? 'zh' : 'en',
  };
}

/** A date and time in the chosen language's conventions. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Intl.DateTimeFormat(LOCALE_TAG[currentLanguage()], {
    dateStyle: 'short',
    timeStyle: 'medium',
  }).format(new Date(iso));
}
