import { Button, Progress, Table, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import type { HTMLAttributes } from 'react';
import type { Task } from '../../../src/client/index.js';
import type { TaskPage } from './liveRows.js';
import { STATUS_COLOR, formatTime } from './status.js';
import { TaskActions } from './TaskActions.js';

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
  const columns: ColumnsType<Task> = [
    {
      title: 'ID',
      dataIndex: 'id',
      width: 150,
      render: (id: string) => (
        <Button
          type="link"
          size="small"
          onClick={() => onOpen(id)}
          data-testid="task-open"
          style={{ padding: 0 }}
        >
          <Typography.Text code ellipsis title={id} style={{ maxWidth: 130 }}>
            {id}
          </Typography.Text>
        </Button>
      ),
    },
    { title: 'Type', dataIndex: 'type', width: 100 },
    {
      title: 'Status',
      dataIndex: 'status',
      width: 110,
      render: (status: Task['status']) => (
        <Tag color={STATUS_COLOR[status]} data-testid="task-status" data-status={status}>
          {status}
        </Tag>
      ),
    },
    {
      title: 'Progress',
      dataIndex: 'progress',
      width: 140,
      render: (progress: number, task) => (
        <Progress
          percent={progress}
          size="small"
          status={progressStatus(task)}
          data-testid="task-progress"
        />
      ),
    },
    {
      title: 'Message',
      key: 'message',
      ellipsis: true,
      render: (_, task) =>
        task.error_message ? (
          <Typography.Text type="danger" title={task.error_message} data-testid="task-message">
            {task.error_message}
          </Typography.Text>
        ) : (
          <span title={task.message} data-testid="task-message">
            {task.message}
          </span>
        ),
    },
    { title: 'Created', dataIndex: 'created_at', width: 170, render: formatTime },
    { title: 'Started', dataIndex: 'started_at', width: 170, render: formatTime },
    { title: 'Completed', dataIndex: 'completed_at', width: 170, render: formatTime },
    {
      title: 'Actions',
      key: 'actions',
      width: 210,
      render: (_, task) => <TaskActions task={task} onChanged={onChanged} onDeleted={onDeleted} />,
    },
  ];

  return (
    <Table<Task>
      data-testid="task-table"
      rowKey="id"
      size="small"
      columns={columns}
      dataSource={page.tasks}
      loading={loading && page.tasks.length === 0}
      scroll={{ x: 1300 }}
      onRow={(task) => ({ 'data-testid': `task-row-${task.id}` }) as HTMLAttributes<HTMLElement>}
      pagination={{
        current: pageNumber,
        pageSize,
        total: page.total,
        showSizeChanger: true,
        pageSizeOptions: [10, 20, 50, 100],
        showTotal: (total) => `${total} tasks`,
        onChange: onPage,
      }}
    />
  );
}
