import { Badge, Tooltip } from 'antd';
import { useFeedState } from './useLiveFeed.js';

const LOOK = {
  open: { status: 'success', text: 'Live', hint: 'Receiving task events' },
  connecting: { status: 'processing', text: 'Connecting', hint: 'Opening the event socket' },
  reconnecting: {
    status: 'warning',
    text: 'Reconnecting',
    hint: 'Event socket lost; retrying with backoff',
  },
} as const;

export function ConnectionIndicator() {
  const { state } = useFeedState();
  const look = LOOK[state];
  return (
    <Tooltip title={look.hint}>
      <span data-testid="connection-indicator" data-state={state}>
        <Badge status={look.status} text={look.text} />
      </span>
    </Tooltip>
  );
}
