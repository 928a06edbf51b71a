import { createContext, useContext } from 'react';
import type { useTheme } from './theme.js';

export const ThemeContext = createContext<ReturnType<typeof useTheme> | null>(null);

export function useThemeChoice(): ReturnType<typeof useTheme> {
  const value = useContext(ThemeContext);
  if (!value) throw new Error('useThemeChoice outside ThemeContext');
  return value;
}
