/**
 * The API token lives in localStorage so a reload keeps the session. A `?token=` in the page URL
 * (the link `tailor serve` prints) is taken once and removed from the address bar, so it does not
 * linger in history or get copied along with the URL.
 */
const STORAGE_KEY = 'tailor.token';

export function loadToken(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY) || null;
  } catch {
    return null;
  }
}

export function saveToken(token: string | null): void {
  try {
    if (token) localStorage.setItem(STORAGE_KEY, token);
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Storage disabled (private mode): the token still lives for this page.
  }
}

export function takeTokenFromUrl(): void {
  const url = new URL(window.location.href);
  const token = url.searchParams.get('token');
  if (token === null) return;
  if (token) saveToken(token);
  url.searchParams.delete('token');
  window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
}
