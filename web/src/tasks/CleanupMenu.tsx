import { App, Button, Dropdown } from 'antd';
import type { TerminalStatus } from '../../../src/client/index.js';
import { useSession } from '../session/Session.js';
import { describeError } from './errors.js';

type CleanupType = TerminalStatus | 'all';

const CHOICES: { key: CleanupType; label: string; what: string }[] = [
  { key: 'completed', label: 'Completed tasks', what: 'every completed task' },
  { key: 'failed', label: 'Failed tasks', what: 'every failed task' },
  { key: 'cancelled', label: 'Cancelled tasks', what: 'every cancelled task' },
  { key: 'all', label: 'All finished tasks', what: 'every completed, failed and cancelled task' },
];

/** Bulk deletion of finished tasks; the server never cleans pending or running ones. */
export function CleanupMenu() {
  const { client } = useSession();
  const { message, modal } = App.useApp();

  const confirm = (choice: (typeof CHOICES)[number]) => {
    modal.confirm({
      title: `Clean up ${choice.label.toLowerCase()}?`,
      content: `This deletes ${choice.what}. Pending and running tasks are kept. Output files are kept.`,
      okText: 'Clean up',
      okButtonProps: { danger: true, 'data-testid': 'cleanup-confirm' },
      onOk: async () => {
        try {
          const { cleaned_count } = await client.cleanup(choice.key);
          void message.success(`Removed ${cleaned_count} task${cleaned_count === 1 ? '' : 's'}`);
        } catch (error) {
          const text = describeError(error);
          if (text) void message.error(text);
        }
      },
    });
  };

  return (
    <Dropdown
      trigger={['click']}
      menu={{
        items: CHOICES.map((choice) => ({
          key: choice.key,
          label: <span data-testid={`cleanup-${choice.key}`}>{choice.label}</span>,
        })),
        onClick: ({ key }) => {
          const choice = CHOICES.find((c) => c.key === key);
          if (choice) confirm(choice);
        },
      }}
    >
      <Button data-testid="cleanup-menu">Clean up</Button>
    </Dropdown>
  );
}
