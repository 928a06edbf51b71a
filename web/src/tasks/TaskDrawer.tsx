import { Alert, Descriptions, Drawer, Image, Progress, Space, Typography } from 'antd';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { Task, TaskLog } from '../../../src/client/index.js';
import { useFeedMessages, useFeedState } from '../feed/useLiveFeed.js';
import { LOCALE_TAG } from '../i18n/detect.js';
import { useT } from '../i18n/index.js';
import { useConsoleModules } from '../modules/registry.js';
import { useSession } from '../session/Session.js';
import { describeError } from './errors.js';
import { mergeLogs } from './logs.js';
import { formatTime } from './status.js';
import { TaskActions } from './TaskActions.js';
import { StatusTag } from './StatusTag.js';
import { TaskImage } from './TaskImage.js';
import { visibleMessage } from './taskMessage.js';

interface Props {
  taskId: string | null;
  onClose(): void;
  onChanged(task: Task): void;
  onDeleted(taskId: string): void;
}

const LOG_PAGE = 1000;
const LOG_COLOR: Record<TaskLog['level'], string | undefined> = {
  debug: '#8c8c8c',
  info: undefined,
  warn: '#d48806',
  error: '#cf1322',
};

/** `result.images[].file`, as executors that write images report them. */
function imageFiles(result: unknown): string[] {
  if (!result || typeof result !== 'object' || !('images' in result)) return [];
  const images = (result as { images: unknown }).images;
  if (!Array.isArray(images)) return [];
  return images.flatMap((image: unknown) =>
    image && typeof image === 'object' && typeof (image as { file?: unknown }).file === 'string'
      ? [(image as { file: string }).file]
      : [],
  );
}

/** The whole task, its live logs and its images. */
export function TaskDrawer({ taskId, onClose, onChanged, onDeleted }: Props) {
  const { t, language } = useT();
  const modules = useConsoleModules();
  const { client } = useSession();
  const { connection } = useFeedState();
  const [task, setTask] = useState<Task | null>(null);
  const [logs, setLogs] = useState<TaskLog[]>([]);
  const [error, setError] = useState<string | null>(null);
  const taskRef = useRef(task);
  taskRef.current = task;
  const logBox = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);

  const refresh = useCallback(
    async (id: string) => {
      try {
        const fresh = await client.getTask(id);
        setTask((current) =>
          current && current.id === id && current.version > fresh.version ? current : fresh,
        );
        setError(null);
      } catch (err) {
        setError(describeError(err));
      }
    },
    [client],
  );

  useEffect(() => {
    setTask(null);
    setLogs([]);
    setError(null);
    stickToBottom.current = true;
  }, [taskId]);

  // (Re)load on open and after every reconnection: events missed while the socket was down are gone.
  useEffect(() => {
    if (!taskId) return;
    let cancelled = false;
    void refresh(taskId);
    void (async () => {
      let after = 0;
      for (let pages = 0; pages < 10 && !cancelled; pages++) {
        const { logs: page } = await client.getLogs(taskId, { after_seq: after, limit: LOG_PAGE });
        if (cancelled) return;
        setLogs((current) => mergeLogs(current, page));
        if (page.length < LOG_PAGE) return;
        after = page.at(-1)!.seq;
      }
    })().catch((err: unknown) => !cancelled && setError(describeError(err)));
    return () => {
      cancelled = true;
    };
  }, [taskId, client, connection, refresh]);

  useFeedMessages((message) => {
    if (!taskId) return;
    if (message.type === 'task_log' && message.task_id === taskId) {
      const { type: _type, ...line } = message;
      setLogs((current) => mergeLogs(current, [line]));
    } else if (message.type === 'task_status' && message.task_id === taskId) {
      const current = taskRef.current;
      // Still loading: the answer may predate this event, so ask again.
      if (!current) return void refresh(taskId);
      if (current.version >= message.version) return;
      // Times, attempts and result are not in the event; a new status changes them.
      if (current.status !== message.status) void refresh(taskId);
      const { type: _type, task_id: _id, task_type: _taskType, ...fields } = message;
      setTask({ ...current, ...fields });
    } else if (message.type === 'task_deleted' && message.task_id === taskId) {
      setError(t('drawer.deleted'));
    }
  });

  useLayoutEffect(() => {
    const box = logBox.current;
    if (box && stickToBottom.current) box.scrollTop = box.scrollHeight;
  }, [logs]);

  const onLogScroll = () => {
    const box = logBox.current;
    if (box) stickToBottom.current = box.scrollHeight - box.scrollTop - box.clientHeight < 24;
  };

  const images = task ? imageFiles(task.result) : [];
  const ResultView = task ? modules?.find((m) => m.type === task.type)?.ResultView : undefined;

  return (
    <Drawer
      open={taskId !== null}
      onClose={onClose}
      size={720}
      title={
        <Space>
          <span>{t('drawer.task')}</span>
          <Typography.Text code copyable>
            {taskId}
          </Typography.Text>
        </Space>
      }
      destroyOnHidden
    >
      <div data-testid="task-drawer">
        {error && <Alert type="warning" showIcon title={error} style={{ marginBottom: 12 }} />}
        {task && (
          <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
            <TaskActions
              task={task}
              onChanged={(next) => {
                setTask(next);
                onChanged(next);
              }}
              onDeleted={(id) => {
                onDeleted(id);
                onClose();
              }}
            />
            <Descriptions size="small" column={2} bordered>
              <Descriptions.Item label={t('drawer.type')}>{task.type}</Descriptions.Item>
              <Descriptions.Item label={t('drawer.status')}>
                <StatusTag status={task.status} testId="drawer-status" />
              </Descriptions.Item>
              <Descriptions.Item label={t('drawer.progress')} span={2}>
                <Progress percent={task.progress} size="small" aria-label={t('drawer.progress')} />
              </Descriptions.Item>
              <Descriptions.Item label={t('drawer.message')} span={2}>
                {visibleMessage(task).kind === 'progress'
                  ? task.message
                  : t(`status.${task.status}`)}
              </Descriptions.Item>
              {task.error_message && (
                <Descriptions.Item label={t('drawer.error')} span={2}>
                  <Typography.Text type="danger">{task.error_message}</Typography.Text>
                </Descriptions.Item>
              )}
              <Descriptions.Item label={t('drawer.priority')}>{task.priority}</Descriptions.Item>
              <Descriptions.Item label={t('drawer.attempts')}>
                {task.attempts} / {task.max_attempts}
              </Descriptions.Item>
              <Descriptions.Item label={t('drawer.owner')} span={2}>
                {task.owner ?? '—'}
              </Descriptions.Item>
              <Descriptions.Item label={t('drawer.created')}>
                {formatTime(task.created_at)}
              </Descriptions.Item>
              <Descriptions.Item label={t('drawer.updated')}>
                {formatTime(task.updated_at)}
              </Descriptions.Item>
              <Descriptions.Item label={t('drawer.started')}>
                {formatTime(task.started_at)}
              </Descriptions.Item>
              <Descriptions.Item label={t('drawer.completed')}>
                {formatTime(task.completed_at)}
              </Descriptions.Item>
            </Descriptions>

            <section>
              <Typography.Title level={5}>{t('drawer.config')}</Typography.Title>
              <pre className="json-block" data-testid="drawer-config">
                {JSON.stringify(task.config, null, 2)}
              </pre>
            </section>

            {task.result !== null && (
              <section>
                <Typography.Title level={5}>{t('drawer.result')}</Typography.Title>
                <pre className="json-block" data-testid="drawer-result">
                  {JSON.stringify(task.result, null, 2)}
                </pre>
              </section>
            )}

            {images.length > 0 && (
              <section>
                <Typography.Title level={5}>{t('drawer.images')}</Typography.Title>
                <Image.PreviewGroup>
                  <Space wrap data-testid="drawer-images">
                    {images.map((file) => (
                      <TaskImage key={file} taskId={task.id} file={file} />
                    ))}
                  </Space>
                </Image.PreviewGroup>
              </section>
            )}
            {ResultView && <ResultView task={task} />}
          </Space>
        )}

        <section style={{ marginTop: 16 }}>
          <Typography.Title level={5}>{t('drawer.logs')}</Typography.Title>
          <div className="log-box" ref={logBox} onScroll={onLogScroll} data-testid="drawer-logs">
            {logs.length === 0 ? (
              <Typography.Text type="secondary">{t('drawer.noLogs')}</Typography.Text>
            ) : (
              logs.map((line) => (
                <div key={line.seq} className="log-line" data-testid="log-line" data-seq={line.seq}>
                  <span className="log-time">
                    {new Date(line.time).toLocaleTimeString(LOCALE_TAG[language])}
                  </span>{' '}
                  <span style={{ color: LOG_COLOR[line.level] }}>
                    [{line.level}] {line.message}
                  </span>
                </div>
              ))
            )}
          </div>
        </section>
      </div>
    </Drawer>
  );
}
