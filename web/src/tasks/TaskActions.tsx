import { App, Button, Checkbox, Popconfirm, Space } from 'antd';
import { useState } from 'react';
import type { Task } from '../../../src/client/index.js';
import { useT, type MessageKey } from '../i18n/index.js';
import { useSession } from '../session/Session.js';
import { describeError } from './errors.js';
import { allowedActions } from './status.js';

interface Props {
  task: Task;
  onChanged(task: Task): void;
  onDeleted(taskId: string): void;
}

/**
 * Stop / cancel / re-run / delete, offered only where the transition table allows them. Stopping
 * or cancelling work asks first: a stray click would throw away a running generation.
 */
export function TaskActions({ task, onChanged, onDeleted }: Props) {
  const { t } = useT();
  const { client } = useSession();
  const { message, modal } = App.useApp();
  const [busy, setBusy] = useState<string | null>(null);
  const allowed = allowedActions(task.status);

  const run = async (name: string, action: () => Promise<Task>, done: MessageKey) => {
    setBusy(name);
    try {
      onChanged(await action());
      void message.success(t(done));
    } catch (error) {
      const text = describeError(error);
      if (text) void message.error(text);
    } finally {
      setBusy(null);
    }
  };

  const confirmDelete = () => {
    let deleteFiles = false;
    modal.confirm({
      title: t('action.deleteTitle', { id: task.id }),
      content: (
        <div>
          {task.status === 'running' && <p>{t('action.deleteRunning')}</p>}
          <Checkbox
            data-testid="delete-files"
            onChange={(event) => (deleteFiles = event.target.checked)}
          >
            {t('action.deleteFiles')}
          </Checkbox>
        </div>
      ),
      okText: t('action.delete'),
      cancelText: t('action.confirmNo'),
      okButtonProps: { danger: true, 'data-testid': 'delete-confirm' },
      onOk: async () => {
        try {
          await client.deleteTask(task.id, { deleteFiles });
          onDeleted(task.id);
          void message.success(t('action.deleted'));
        } catch (error) {
          const text = describeError(error);
          if (text) void message.error(text);
        }
      },
    });
  };

  const confirmProps = {
    okText: t('action.confirmYes'),
    cancelText: t('action.confirmNo'),
  };

  return (
    <Space size={4} wrap>
      {allowed.stop && (
        <Popconfirm
          title={t('action.stopConfirm')}
          {...confirmProps}
          okButtonProps={{ danger: true, 'data-testid': 'confirm-stop' }}
          onConfirm={() => run('stop', () => client.stopTask(task.id), 'action.stopped')}
        >
          <Button size="small" loading={busy === 'stop'} data-testid="action-stop">
            {t('action.stop')}
          </Button>
        </Popconfirm>
      )}
      {allowed.cancel && (
        <Popconfirm
          title={t(
            task.status === 'running' ? 'action.cancelRunningConfirm' : 'action.cancelConfirm',
          )}
          {...confirmProps}
          okButtonProps={{ danger: true, 'data-testid': 'confirm-cancel' }}
          onConfirm={() => run('cancel', () => client.cancelTask(task.id), 'action.cancelled')}
        >
          <Button size="small" loading={busy === 'cancel'} data-testid="action-cancel">
            {t('action.cancel')}
          </Button>
        </Popconfirm>
      )}
      {allowed.rerun && (
        <Button
          size="small"
          loading={busy === 'rerun'}
          onClick={() => void run('rerun', () => client.startTask(task.id), 'action.requeued')}
          data-testid="action-rerun"
        >
          {t('action.rerun')}
        </Button>
      )}
      <Button size="small" danger onClick={confirmDelete} data-testid="action-delete">
        {t('action.delete')}
      </Button>
    </Space>
  );
}
