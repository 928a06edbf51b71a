import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import { readStored, writeStored } from './storage.js';

export type ThemeChoice = 'light' | 'dark' | 'system';
const STORAGE_KEY = 'tailor.theme';
const QUERY = '(prefers-color-scheme: dark)';

function subscribeOs(listener: () => void): () => void {
  const media = window.matchMedia(QUERY);
  media.addEventListener('change', listener);
  return () => media.removeEventListener('change', listener);
}

/** The user's choice (remembered) and the theme it resolves to; "system" follows the OS live. */
export function useTheme(): {
  choice: ThemeChoice;
  dark: boolean;
  setChoice(choice: ThemeChoice): void;
} {
  const [choice, setChoiceState] = useState<ThemeChoice>(() => {
    const stored = readStored(STORAGE_KEY);
    return stored === 'light' || stored === 'dark' ? stored : 'system';
  });
  const osDark = useSyncExternalStore(subscribeOs, () => window.matchMedia(QUERY).matches);
  const dark = choice === 'system' ? osDark : choice === 'dark';
  useEffect(() => {
    document.documentElement.dataset.theme = dark ? 'dark' : 'light';
    document.documentElement.style.colorScheme = dark ? 'dark' : 'light';
  }, [dark]);
  const setChoice = useCallback((next: ThemeChoice) => {
    writeStored(STORAGE_KEY, next === 'system' ? null : next);
    setChoiceState(next);
  }, []);
  return { choice, dark, setChoice };
}
