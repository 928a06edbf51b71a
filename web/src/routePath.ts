/** The pure half of the router (no `window`), so node tests can use it. */
export interface Route {
  /** `/tasks`, `/gallery`, `/generate` … */
  path: string;
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/tasks';
  const [path = '/tasks', query = ''] = raw.split('?', 2);
  return { path: path.startsWith('/') ? path : `/${path}`, params: new URLSearchParams(query) };
}
