import { Alert, Button, Layout, Select, Space, Typography } from 'antd';
import { useEffect, useState } from 'react';
import type { TaskStatus } from '../../src/client/index.js';
import { ConnectionIndicator } from './feed/ConnectionIndicator.js';
import { LoginModal } from './session/LoginModal.js';
import { useSession } from './session/Session.js';
import { CleanupMenu } from './tasks/CleanupMenu.js';
import { CreateTaskModal, type TaskTypeInfo } from './tasks/CreateTaskModal.js';
import { TASK_STATUSES } from './tasks/status.js';
import { TaskDrawer } from './tasks/TaskDrawer.js';
import { TaskTable } from './tasks/TaskTable.js';
import { useTaskPage } from './tasks/useTaskPage.js';

export function ConsoleApp() {
  const { client } = useSession();
  const { query, setQuery, page, loading, error, merge, remove } = useTaskPage(client);
  const [types, setTypes] = useState<TaskTypeInfo[]>([]);
  const [openTask, setOpenTask] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);

  useEffect(() => {
    client.getTaskTypes().then(
      ({ types }) => setTypes(types),
      () => setTypes([]),
    );
  }, [client]);

  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Header className="console-header">
        <Typography.Title level={4} style={{ color: '#fff', margin: 0 }}>
          Tailor
        </Typography.Title>
        <ConnectionIndicator />
      </Layout.Header>
      <Layout.Content style={{ padding: 24 }}>
        <Space style={{ marginBottom: 16, width: '100%', justifyContent: 'space-between' }} wrap>
          <Space wrap>
            <Select<TaskStatus | ''>
              style={{ width: 160 }}
              value={query.status ?? ''}
              onChange={(status) => setQuery({ ...query, page: 1, status: status || undefined })}
              options={[
                { value: '', label: 'Any status' },
                ...TASK_STATUSES.map((s) => ({ value: s, label: s })),
              ]}
              data-testid="filter-status"
            />
            <Select<string>
              style={{ width: 160 }}
              value={query.type ?? ''}
              onChange={(type) => setQuery({ ...query, page: 1, type: type || undefined })}
              options={[
                { value: '', label: 'Any type' },
                ...types.map((t) => ({ value: t.type, label: t.type })),
              ]}
              data-testid="filter-type"
            />
          </Space>
          <Space>
            <CleanupMenu />
            <Button
              type="primary"
              onClick={() => setCreating(true)}
              data-testid="create-task-button"
            >
              New task
            </Button>
          </Space>
        </Space>
        {error && (
          <Alert
            type="error"
            showIcon
            title={error}
            style={{ marginBottom: 16 }}
            data-testid="list-error"
          />
        )}
        <TaskTable
          page={page}
          pageNumber={query.page}
          pageSize={query.pageSize}
          loading={loading}
          onPage={(pageNumber, pageSize) => setQuery({ ...query, page: pageNumber, pageSize })}
          onOpen={setOpenTask}
          onChanged={merge}
          onDeleted={remove}
        />
      </Layout.Content>
      <TaskDrawer
        taskId={openTask}
        onClose={() => setOpenTask(null)}
        onChanged={merge}
        onDeleted={remove}
      />
      <CreateTaskModal
        open={creating}
        types={types}
        onClose={() => setCreating(false)}
        onCreated={() => undefined}
      />
      <LoginModal />
    </Layout>
  );
}
