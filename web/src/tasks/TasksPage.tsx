import { Alert, Button, Select, Space } from 'antd';
import { Suspense, lazy, useState } from 'react';
import type { TaskStatus } from '../../../src/client/index.js';
import { useT } from '../i18n/index.js';
import { navigate, useRoute } from '../router.js';
import { useSession } from '../session/Session.js';
import { CleanupMenu } from './CleanupMenu.js';
import { TASK_STATUSES } from './status.js';
import { TaskTable } from './TaskTable.js';
import { useTaskPage } from './useTaskPage.js';
import { useTaskTypes } from './useTaskTypes.js';

// The drawer and the create dialog load on first use: they are not needed to show the list.
const TaskDrawer = lazy(() => import('./TaskDrawer.js').then((m) => ({ default: m.TaskDrawer })));
const CreateTaskModal = lazy(() =>
  import('./CreateTaskModal.js').then((m) => ({ default: m.CreateTaskModal })),
);

/** Every task, live; `#/tasks?task=<id>` opens one in the drawer (the gallery links there). */
export function TasksPage() {
  const { t } = useT();
  const { client } = useSession();
  const route = useRoute();
  const { query, setQuery, page, loading, error, merge, remove } = useTaskPage(client);
  const types = useTaskTypes();
  const [creating, setCreating] = useState(false);
  const [createUsed, setCreateUsed] = useState(false);
  const openTask = route.params.get('task');
  const setOpenTask = (id: string | null) => navigate('/tasks', id ? { task: id } : undefined);

  return (
    <>
      <Space style={{ marginBottom: 16, width: '100%', justifyContent: 'space-between' }} wrap>
        <Space wrap>
          <Select<TaskStatus | ''>
            aria-label={t('tasks.filterStatus')}
            style={{ width: 160 }}
            value={query.status ?? ''}
            onChange={(status) => setQuery({ ...query, page: 1, status: status || undefined })}
            options={[
              { value: '', label: t('tasks.anyStatus') },
              ...TASK_STATUSES.map((s) => ({ value: s, label: t(`status.${s}`) })),
            ]}
            data-testid="filter-status"
          />
          <Select<string>
            aria-label={t('tasks.filterType')}
            style={{ width: 160 }}
            value={query.type ?? ''}
            onChange={(type) => setQuery({ ...query, page: 1, type: type || undefined })}
            options={[
              { value: '', label: t('tasks.anyType') },
              ...types.map((type) => ({ value: type.type, label: type.type })),
            ]}
            data-testid="filter-type"
          />
        </Space>
        <Space>
          <CleanupMenu />
          <Button
            type="primary"
            onClick={() => {
              setCreateUsed(true);
              setCreating(true);
            }}
            data-testid="create-task-button"
          >
            {t('tasks.new')}
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
      <Suspense fallback={null}>
        {openTask && (
          <TaskDrawer
            taskId={openTask}
            onClose={() => setOpenTask(null)}
            onChanged={merge}
            onDeleted={remove}
          />
        )}
        {createUsed && (
          <CreateTaskModal
            open={creating}
            types={types}
            onClose={() => setCreating(false)}
            onCreated={() => undefined}
          />
        )}
      </Suspense>
    </>
  );
}
