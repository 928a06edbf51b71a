import { App, Button, Checkbox, Space } from 'antd';
import { useState } from 'react';
import type { Task } from '../../../src/client/index.js';
import { useSession } from '../session/Session.js';
import { describeError } from './errors.js';
import { allowedActions } from './status.js';

interface Props {
  task: Task;
  onChanged(task: Task): void;
  onDeleted(taskId: string): void;
}

/** Stop / cancel / re-run / delete, offered only where the transition table allows them. */
export function TaskActions({ task, onChanged, onDeleted }: Props) {
  const { client } = useSession();
  const { message, modal } = App.useApp();
  const [busy, setBusy] = useState<string | null>(null);
  const allowed = allowedActions(task.status);

  const run = async (name: string, action: () => Promise<Task>, done: string) => {
    setBusy(name);
    try {
      onChanged(await action());
      void message.success(done);
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
      title: `Delete task ${task.id}?`,
      content: (
        <div>
          {task.status === 'running' && <p>It is running and will be stopped first.</p>}
          <Checkbox
            data-testid="delete-files"
            onChange={(event) => (deleteFiles = event.target.checked)}
          >
            Also delete its output files
          </Checkbox>
        </div>
      ),
      okText: 'Delete',
      okButtonProps: { danger: true, 'data-testid': 'delete-confirm' },
      onOk: async () => {
        try {
          await client.deleteTask(task.id, { deleteFiles });
          onDeleted(task.id);
          void message.success('Task deleted');
        } catch (error) {
          const text = describeError(error);
          if (text) void message.error(text);
        }
      },
    });
  };

  return (
    <Space size={4} wrap>
      {allowed.stop && (
        <Button
          size="small"
          loading={busy === 'stop'}
          onClick={() => void run('stop', () => client.stopTask(task.id), 'Task stopped')}
          data-testid="action-stop"
        >
          Stop
        </Button>
      )}
      {allowed.cancel && (
        <Button
          size="small"
          loading={busy === 'cancel'}
          onClick={() => void run('cancel', () => client.cancelTask(task.id), 'Task cancelled')}
          data-testid="action-cancel"
        >
          Cancel
        </Button>
      )}
      {allowed.rerun && (
        <Button
          size="small"
          loading={busy === 'rerun'}
          onClick={() => void run('rerun', () => client.startTask(task.id), 'Task queued again')}
          data-testid="action-rerun"
        >
          Re-run
        </Button>
      )}
      <Button size="small" danger onClick={confirmDelete} data-testid="action-delete">
        Delete
      </Button>
    </Space>
  );
}
