import type { ServerMessage, TailorClient, TaskFeed } from '../../../src/client/index.js';

export type FeedState = 'connecting' | 'open' | 'reconnecting';

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 15_000 };

/**
 * One `subscribe_all` socket for the whole console, reopened with capped exponential backoff
 * (with jitter, so many consoles do not reconnect in step after a server restart).
 *
 * Events sent while the socket was down are lost, so `connection` increases with every
 * successful (re)connection and views reload what they show when it changes.
 */
export class LiveFeed {
  private feed: TaskFeed | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private failures = 0;
  private stopped = false;
  private readonly messageListeners = new Set<(message: ServerMessage) => void>();
  private readonly stateListeners = new Set<() => void>();
  private snapshot: { state: FeedState; connection: number } = {
    state: 'connecting',
    connection: 0,
  };

  constructor(
    private readonly client: TailorClient,
    private readonly backoff: Backoff = DEFAULT_BACKOFF,
  ) {}

  start(): void {
    void this.open();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.feed?.close();
    this.feed = null;
  }

  /** State and connection count, as one immutable value for useSyncExternalStore. */
  getSnapshot = (): { state: FeedState; connection: number } => this.snapshot;

  subscribeState = (listener: () => void): (() => void) => {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  };

  onMessage(listener: (message: ServerMessage) => void): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  private setState(state: FeedState, connected = false): void {
    this.snapshot = { state, connection: this.snapshot.connection + (connected ? 1 : 0) };
    for (const listener of this.stateListeners) listener();
  }

  private async open(): Promise<void> {
    this.timer = null;
    let feed: TaskFeed;
    try {
      feed = await this.client.connect();
    } catch {
      this.retry();
      return;
    }
    if (this.stopped) {
      feed.close();
      return;
    }
    this.feed = feed;
    this.failures = 0;
    feed.onMessage((message) => {
      for (const listener of this.messageListeners) listener(message);
    });
    feed.onClose(() => {
      if (this.feed !== feed) return;
      this.feed = null;
      this.retry();
    });
    feed.subscribeAll();
    this.setState('open', true);
  }

  private retry(): void {
    if (this.stopped) return;
    const ceiling = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** this.failures);
    this.failures++;
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.setState('reconnecting');
    this.timer = setTimeout(() => void this.open(), delay);
  }
}
