import { Image } from 'antd';
import { useState } from 'react';
import { fileUrl, useFileUrl } from '../files/useFileUrl.js';

/** One of a task's images, in the drawer; files that are missing are simply not shown. */
export function TaskImage({ taskId, file }: { taskId: string; file: string }) {
  const { src, missing } = useFileUrl(fileUrl(taskId, file));
  const [broken, setBroken] = useState(false);
  if (missing || broken || !src) return null;
  return (
    <Image
      src={src}
      width={120}
      height={120}
      style={{ objectFit: 'cover', borderRadius: 4 }}
      alt={file}
      title={file}
      onError={() => setBroken(true)}
      data-testid="drawer-image"
    />
  );
}
