import { Button, Empty, Pagination, Progress, Spin, Typography } from 'antd';
import type { ReactNode } from 'react';
import type { Task } from '../../../src/client/index.js';
import { useT, type MessageKey } from '../i18n/index.js';
import type { TaskPage } from './liveRows.js';
import { formatTime } from './status.js';
import { StatusTag } from './StatusTag.js';
import { TaskActions } from './TaskActions.js';
import { visibleMessage } from './taskMessage.js';

interface Props {
  page: TaskPage;
  pageNumber: number;
  pageSize: number;
  loading: boolean;
  onPage(page: number, pageSize: number): void;
  onOpen(taskId: string): void;
  onChanged(task: Task): void;
  onDeleted(taskId: string): void;
}

function progressStatus(task: Task): 'success' | 'exception' | 'active' | 'normal' {
  if (task.status === 'completed') return 'success';
  if (task.status === 'failed') return 'exception';
  return task.status === 'running' ? 'active' : 'normal';
}

interface Column {
  key: string;
  title: MessageKey;
  width: number;
  /** Stays in view while the table scrolls sideways. */
  sticky?: 'left' | 'right';
  render(task: Task): ReactNode;
}

/**
 * The task list as a plain HTML table. antd's Table brings its filter tree, virtual list and
 * more (≈45 kB gzip) that this list never uses, and the Tasks page is the first page loaded.
 * The ID and action columns are sticky, so on a narrow screen the table scrolls between them.
 */
export function TaskTable({
  page,
  pageNumber,
  pageSize,
  loading,
  onPage,
  onOpen,
  onChanged,
  onDeleted,
}: Props) {
  const { t } = useT();
  const columns: Column[] = [
    {
      key: 'id',
      title: 'tasks.col.id',
      width: 150,
      sticky: 'left',
      render: (task) => (
        <Button
          type="link"
          size="small"
          onClick={() => onOpen(task.id)}
          data-testid="task-open"
          aria-label={t('tasks.openTask', { id: task.id })}
          style={{ padding: 0 }}
        >
          <Typography.Text code ellipsis title={task.id} style={{ maxWidth: 130 }}>
            {task.id}
          </Typography.Text>
        </Button>
      ),
    },
    { key: 'type', title: 'tasks.col.type', width: 100, render: (task) => task.type },
    {
      key: 'status',
      title: 'tasks.col.status',
      width: 140,
      render: (task) => <StatusTag status={task.status} testId="task-status" />,
    },
    {
      key: 'progress',
      title: 'tasks.col.progress',
      width: 140,
      render: (task) => (
        <Progress
          percent={task.progress}
          size="small"
          status={progressStatus(task)}
          aria-label={t('tasks.col.progress')}
          data-testid="task-progress"
        />
      ),
    },
    {
      key: 'message',
      title: 'tasks.col.message',
      width: 240,
      render: (task) => {
        const shown = visibleMessage(task);
        if (shown.kind === 'error')
          return (
            <Typography.Text type="danger" ellipsis title={shown.text} data-testid="task-message">
              {shown.text}
            </Typography.Text>
          );
        if (shown.kind === 'progress')
          return (
            <Typography.Text ellipsis title={shown.text} data-testid="task-message">
              {shown.text}
            </Typography.Text>
          );
        return (
          <Typography.Text type="secondary" data-testid="task-message">
            {t(`status.${task.status}`)}
          </Typography.Text>
        );
      },
    },
    {
      key: 'created',
      title: 'tasks.col.created',
      width: 190,
      render: (task) => formatTime(task.created_at),
    },
    {
      key: 'started',
      title: 'tasks.col.started',
      width: 190,
      render: (task) => formatTime(task.started_at),
    },
    {
      key: 'completed',
      title: 'tasks.col.completed',
      width: 190,
      render: (task) => formatTime(task.completed_at),
    },
    {
      key: 'actions',
      title: 'tasks.col.actions',
      width: 230,
      sticky: 'right',
      render: (task) => <TaskActions task={task} onChanged={onChanged} onDeleted={onDeleted} />,
    },
  ];
  const cellClass = (column: Column) =>
    column.sticky ? `task-cell task-cell-sticky-${column.sticky}` : 'task-cell';

  return (
    <div data-testid="task-table" className="task-table">
      <Spin spinning={loading && page.tasks.length === 0}>
        <div className="task-table-scroll" tabIndex={0} aria-label={t('nav.tasks')} role="region">
          <table>
            <colgroup>
              {columns.map((column) => (
                <col key={column.key} style={{ width: column.width }} />
              ))}
            </colgroup>
            <thead>
              <tr>
                {columns.map((column) => (
                  <th key={column.key} scope="col" className={cellClass(column)}>
                    {t(column.title)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {page.tasks.map((task) => (
                <tr key={task.id} className="task-row" data-testid={`task-row-${task.id}`}>
                  {columns.map((column) => (
                    <td key={column.key} className={cellClass(column)}>
                      {column.render(task)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          {page.tasks.length === 0 && !loading && <Empty style={{ padding: 24 }} />}
        </div>
      </Spin>
      <Pagination
        className="task-pagination"
        current={pageNumber}
        pageSize={pageSize}
        total={page.total}
        showSizeChanger
        pageSizeOptions={[10, 20, 50, 100]}
        showTotal={(total) => t('tasks.total', { count: total })}
        onChange={onPage}
        size="small"
      />
    </div>
  );
}
