import { Alert, Button, Card, Progress, Space, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Task } from '../../../client/index.js';
import { useFeedMessages, useFeedState } from '../../../../web/src/feed/useLiveFeed.js';
import { fileUrl, useFileUrl } from '../../../../web/src/files/useFileUrl.js';
import { navigate } from '../../../../web/src/router.js';
import { useSession } from '../../../../web/src/session/Session.js';
import { StatusTag } from '../../../../web/src/tasks/StatusTag.js';
import { visibleMessage } from '../../../../web/src/tasks/taskMessage.js';
import { previewPath } from './api.js';

const PREVIEW_POLL_MS = 1000;

/** `result.images[].file` of a finished generation. */
function resultFiles(task: Task): string[] {
  const result = task.result;
  if (
    !result ||
    typeof result !== 'object' ||
    !('images' in result) ||
    !Array.isArray(result.images)
  )
    return [];
  return result.images.flatMap((image: unknown) =>
    image && typeof image === 'object' && 'file' in image && typeof image.file === 'string'
      ? [image.file]
      : [],
  );
}

function ResultImage({ taskId, file }: { taskId: string; file: string }) {
  const { src } = useFileUrl(fileUrl(taskId, file));
  if (!src) return null;
  return (
    <a href={`#/gallery?task=${encodeURIComponent(taskId)}`} data-testid="result-image">
      <img className="result-thumb" src={src} alt={file} />
    </a>
  );
}

/**
 * The latest WebUI preview while sampling, polled as an image. The endpoint answers 404 when
 * there is no preview yet; a fetch (not an <img>) keeps those answers out of the console.
 */
function LivePreview({ taskId }: { taskId: string }) {
  const { t } = useTranslation('generate');
  const { client, token } = useSession();
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let current: string | null = null;
    let stopped = false;
    const poll = async () => {
      try {
        const response = await fetch(client.baseUrl + previewPath(taskId), {
          headers: token ? { authorization: `Bearer ${token}` } : {},
          cache: 'no-store',
        });
        if (response.ok && !stopped) {
          const url = URL.createObjectURL(await response.blob());
          if (current) URL.revokeObjectURL(current);
          current = url;
          setSrc(url);
        }
      } catch {
        // The next poll tries again.
      }
    };
    void poll();
    const timer = setInterval(() => void poll(), PREVIEW_POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
      if (current) URL.revokeObjectURL(current);
    };
  }, [client, token, taskId]);
  if (!src) return null;
  return <img className="preview-image" src={src} alt={t('preview')} data-testid="live-preview" />;
}

/** One queued generation followed live: status, progress, preview, then its images. */
export function GenerationRun({
  taskId,
  previewAvailable,
}: {
  taskId: string;
  previewAvailable: boolean;
}) {
  const { t } = useTranslation('generate');
  const { client } = useSession();
  const { connection } = useFeedState();
  const [task, setTask] = useState<Task | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    client.getTask(taskId).then(
      (fresh) =>
        live &&
        setTask((current) => (current && current.version > fresh.version ? current : fresh)),
      (err: unknown) => live && setError(err instanceof Error ? err.message : String(err)),
    );
    return () => {
      live = false;
    };
  }, [client, taskId, connection]);

  useFeedMessages((message) => {
    if (message.type !== 'task_status' || message.task_id !== taskId) return;
    setTask((current) => {
      if (!current || current.version >= message.version) return current;
      return {
        ...current,
        status: message.status,
        progress: message.progress,
        message: message.message,
        error_message: message.error_message,
        version: message.version,
      };
    });
    // The result (the image list) is not in the event: fetch the task once it ends.
    if (
      message.status === 'completed' ||
      message.status === 'failed' ||
      message.status === 'cancelled'
    )
      void client.getTask(taskId).then(setTask, () => undefined);
  });

  if (error) return <Alert type="error" showIcon title={error} />;
  if (!task) return null;
  const files = resultFiles(task);
  const shown = visibleMessage(task);
  return (
    <Card
      size="small"
      title={t('progress')}
      data-testid="generation-run"
      data-task={task.id}
      data-status={task.status}
      extra={
        <Space>
          <Button size="small" onClick={() => navigate('/tasks', { task: task.id })}>
            {t('openTask')}
          </Button>
          <Button
            size="small"
            onClick={() => navigate('/gallery', { task: task.id })}
            data-testid="open-in-gallery"
          >
            {t('openInGallery')}
          </Button>
        </Space>
      }
    >
      <Space orientation="vertical" style={{ width: '100%' }}>
        <Space wrap>
          <StatusTag status={task.status} testId="run-status" />
          <Typography.Text code>{task.id}</Typography.Text>
        </Space>
        <Progress
          percent={task.progress}
          status={
            task.status === 'failed'
              ? 'exception'
              : task.status === 'completed'
                ? 'success'
                : 'active'
          }
          aria-label={t('progress')}
          data-testid="run-progress"
        />
        {shown.kind === 'error' && <Alert type="error" showIcon title={shown.text} />}
        {shown.kind === 'progress' && (
          <Typography.Text type="secondary" data-testid="run-message">
            {shown.text}
          </Typography.Text>
        )}
        {previewAvailable && task.status === 'running' && <LivePreview taskId={task.id} />}
        <Typography.Title level={5} style={{ margin: 0 }}>
          {t('results')}
        </Typography.Title>
        {files.length === 0 ? (
          <Typography.Text type="secondary">{t('noResultYet')}</Typography.Text>
        ) : (
          <Space wrap data-testid="run-results">
            {files.map((file) => (
              <ResultImage key={file} taskId={task.id} file={file} />
            ))}
          </Space>
        )}
      </Space>
    </Card>
  );
}
