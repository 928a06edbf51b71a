import { createContext, useContext, useEffect, useRef, useSyncExternalStore } from 'react';
import type { ServerMessage } from '../../../src/client/index.js';
import type { FeedState, LiveFeed } from './LiveFeed.js';

export const LiveFeedContext = createContext<LiveFeed | null>(null);

function useFeed(): LiveFeed {
  const feed = useContext(LiveFeedContext);
  if (!feed) throw new Error('useLiveFeed outside LiveFeedContext');
  return feed;
}

/** Connection state, and a counter that changes on every (re)connection. */
export function useFeedState(): { state: FeedState; connection: number } {
  const feed = useFeed();
  return useSyncExternalStore(feed.subscribeState, feed.getSnapshot);
}

/** Calls the latest `listener` for every server message. */
export function useFeedMessages(listener: (message: ServerMessage) => void): void {
  const feed = useFeed();
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => feed.onMessage((message) => latest.current(message)), [feed]);
}
