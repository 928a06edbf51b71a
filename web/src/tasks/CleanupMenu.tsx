import { App, Button, Dropdown } from 'antd';
import type { TerminalStatus } from '../../../src/client/index.js';
import { useT, type MessageKey } from '../i18n/index.js';
import { useSession } from '../session/Session.js';
import { describeError } from './errors.js';

type CleanupType = TerminalStatus | 'all';

const CHOICES: { key: CleanupType; label: MessageKey }[] = [
  { key: 'completed', label: 'cleanup.completed' },
  { key: 'failed', label: 'cleanup.failed' },
  { key: 'cancelled', label: 'cleanup.cancelled' },
  { key: 'all', label: 'cleanup.all' },
];

/** Bulk deletion of finished tasks; the server never cleans pending or running ones. */
export function CleanupMenu() {
  const { t } = useT();
  const { client } = useSession();
  const { message, modal } = App.useApp();

  const confirm = (choice: (typeof CHOICES)[number]) => {
    modal.confirm({
      title: t('cleanup.title', { what: t(choice.label) }),
      content: t('cleanup.content'),
      okText: t('cleanup.ok'),
      cancelText: t('action.confirmNo'),
      okButtonProps: { danger: true, 'data-testid': 'cleanup-confirm' },
      onOk: async () => {
        try {
          const { cleaned_count } = await client.cleanup(choice.key);
          void message.success(t('cleanup.done', { count: cleaned_count }));
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
          label: <span data-testid={`cleanup-${choice.key}`}>{t(choice.label)}</span>,
        })),
        onClick: ({ key }) => {
          const choice = CHOICES.find((c) => c.key === key);
          if (choice) confirm(choice);
        },
      }}
    >
      <Button data-testid="cleanup-menu">{t('cleanup.button')}</Button>
    </Dropdown>
  );
}
