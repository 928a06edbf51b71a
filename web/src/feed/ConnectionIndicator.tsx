import { Badge, Tooltip } from 'antd';
import { useT, type MessageKey } from '../i18n/index.js';
import { useFeedState } from './useLiveFeed.js';

const LOOK = {
  open: { status: 'success', text: 'feed.open', hint: 'feed.openHint' },
  connecting: { status: 'processing', text: 'feed.connecting', hint: 'feed.connectingHint' },
  reconnecting: { status: 'warning', text: 'feed.reconnecting', hint: 'feed.reconnectingHint' },
} as const satisfies Record<string, { status: string; text: MessageKey; hint: MessageKey }>;

export function ConnectionIndicator() {
  const { t } = useT();
  const { state } = useFeedState();
  const look = LOOK[state];
  return (
    <Tooltip title={t(look.hint)}>
      <span data-testid="connection-indicator" data-state={state} role="status" tabIndex={0}>
        <Badge status={look.status} text={t(look.text)} />
      </span>
    </Tooltip>
  );
}
