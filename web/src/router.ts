import { useSyncExternalStore } from 'react';
import { parseHash, type Route } from './routePath.js';

export { parseHash, type Route };

/**
 * A hash router (`#/gallery?task=…`): the server serves one index.html at `/` only, so History
 * routes would 404 on reload. react-router 7 is not a dependency; this is all the console needs.
 */

function subscribe(listener: () => void): () => void {
  window.addEventListener('hashchange', listener);
  return () => window.removeEventListener('hashchange', listener);
}

const snapshot = () => window.location.hash;

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, snapshot);
  return parseHash(hash);
}

export function href(path: string, params?: Record<string, string>): string {
  const query = params ? new URLSearchParams(params).toString() : '';
  return `#${path}${query ? `?${query}` : ''}`;
}

export function navigate(path: string, params?: Record<string, string>): void {
  window.location.hash = href(path, params);
}
