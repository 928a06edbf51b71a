import { useEffect, useState } from 'react';
import { useSession } from '../session/Session.js';

/** `/api/files/<task>/<path>` for a file of a task's output folder. */
export function fileUrl(taskId: string, file: string): string {
  return `/api/files/${encodeURIComponent(taskId)}/${file.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * A URL an <img> can show for a server file. Without a token that is the file's own URL. With a
 * token the browser cannot add the Authorization header to an <img> request, so the file is
 * fetched and shown from a blob URL (revoked when the component lets go of it). `null` while
 * loading; `missing` when the server has no such file.
 */
export function useFileUrl(path: string | null): { src: string | null; missing: boolean } {
  const { client, token } = useSession();
  const direct = path && !token ? client.baseUrl + path : null;
  const [blob, setBlob] = useState<{ path: string; src: string | null; missing: boolean } | null>(
    null,
  );

  useEffect(() => {
    if (!path || !token) return;
    let url: string | null = null;
    let cancelled = false;
    void fetch(client.baseUrl + path, { headers: { authorization: `Bearer ${token}` } })
      .then(async (response) => {
        if (!response.ok) throw new Error(String(response.status));
        const data = await response.blob();
        if (cancelled) return;
        url = URL.createObjectURL(data);
        setBlob({ path, src: url, missing: false });
      })
      .catch(() => !cancelled && setBlob({ path, src: null, missing: true }));
    return () => {
      cancelled = true;
      if (url) URL.revokeObjectURL(url);
    };
  }, [client, token, path]);

  if (direct) return { src: direct, missing: false };
  if (blob && blob.path === path) return { src: blob.src, missing: blob.missing };
  return { src: null, missing: false };
}
