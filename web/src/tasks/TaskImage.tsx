import { Image } from 'antd';
import { useEffect, useState } from 'react';
import { useSession } from '../session/Session.js';

/**
 * A thumbnail of one output file. Without a token the browser loads `/api/files/…` itself; with
 * one, an <img> cannot send the Authorization header, so the file is fetched and shown from a
 * blob URL. (The typed client only speaks JSON, so this is the console's one direct fetch.)
 * Files that are missing are simply not shown.
 */
export function TaskImage({ taskId, file }: { taskId: string; file: string }) {
  const { client, token } = useSession();
  const path = `/api/files/${encodeURIComponent(taskId)}/${file.split('/').map(encodeURIComponent).join('/')}`;
  const [src, setSrc] = useState<string | null>(token ? null : client.baseUrl + path);
  const [missing, setMissing] = useState(false);

  useEffect(() => {
    setMissing(false);
    if (!token) {
      setSrc(client.baseUrl + path);
      return;
    }
    let url: string | null = null;
    let cancelled = false;
    void fetch(client.baseUrl + path, { headers: { authorization: `Bearer ${token}` } })
      .then(async (response) => {
        if (!response.ok) throw new Error(String(response.status));
        const blob = await response.blob();
        if (cancelled) return;
        url = URL.createObjectURL(blob);
        setSrc(url);
      })
      .catch(() => !cancelled && setMissing(true));
    return () => {
      cancelled = true;
      if (url) URL.revokeObjectURL(url);
    };
  }, [client, token, path]);

  if (missing || !src) return null;
  return (
    <Image
      src={src}
      width={120}
      height={120}
      style={{ objectFit: 'cover', borderRadius: 4 }}
      alt={file}
      title={file}
      onError={() => setMissing(true)}
      data-testid="drawer-image"
    />
  );
}
