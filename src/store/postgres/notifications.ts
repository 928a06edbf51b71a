import pg from 'pg';
import { CANCEL_CHANNEL, EVENT_CHANNEL, LANE_CHANNEL } from './channels.js';
import { resolveTarget } from './target.js';

export interface PgNotificationsOptions {
  connectionString: string;
  /** Shown in pg_stat_activity (default `pixivtailor-listen`). */
  applicationName?: string;
  /** First reconnect delay; doubles up to `maxBackoffMs` (defaults 100 ms and 5 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  onError?: (error: Error) => void;
}

type Listener<T> = (value: T) => void;

/**
 * Cluster wake-ups: LISTENs on `tailor_lane`, `tailor_cancel` and `tailor_event` over one dedicated connection
 * (a pooled one would lose its LISTEN when recycled). If the connection drops it reconnects with
 * exponential backoff and LISTENs again; notifications sent meanwhile are lost, so `onReconnect`
 * listeners should treat a reconnect as "every lane may have work".
 */
export class PgNotifications {
  private readonly connectionString: string;
  private readonly applicationName: string;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly onError: (error: Error) => void;
  private readonly lane = new Set<Listener<string>>();
  private readonly cancel = new Set<Listener<string>>();
  private readonly event = new Set<Listener<string>>();
  private readonly reconnect = new Set<Listener<void>>();
  private client: pg.Client | null = null;
  private closed = false;
  private wakeSleep: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private readonly listening: Promise<void>;
  private resolveListening!: () => void;

  constructor(options: PgNotificationsOptions) {
    this.connectionString = resolveTarget(options.connectionString).connectionString;
    this.applicationName = options.applicationName ?? 'pixivtailor-listen';
    this.minBackoffMs = options.minBackoffMs ?? 100;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
    this.onError =
      options.onError ??
      ((error) => console.error(`[pixivtailor] LISTEN connection: ${error.message}`));
    this.listening = new Promise((resolve) => {
      this.resolveListening = resolve;
    });
  }

  /** Connect and LISTEN; resolves once the first LISTEN is in place (retrying until it is). */
  start(): Promise<void> {
    this.loop ??= this.run();
    return this.listening;
  }

  /** A task type whose lane may have work. Returns an unsubscribe function. */
  onLane(listener: Listener<string>): () => void {
    return subscribe(this.lane, listener);
  }

  /** The id of a running task someone asked to stop. */
  onCancel(listener: Listener<string>): () => void {
    return subscribe(this.cancel, listener);
  }

  /** A task event written by some node (JSON, see `channels.ts`). */
  onEvent(listener: Listener<string>): () => void {
    return subscribe(this.event, listener);
  }

  /** Whether the LISTEN connection is up right now. */
  get connected(): boolean {
    return this.client !== null;
  }

  /** The connection was re-established after a drop; notifications may have been missed. */
  onReconnect(listener: Listener<void>): () => void {
    return subscribe(this.reconnect, listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeSleep?.();
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
    await this.loop;
  }

  private async run(): Promise<void> {
    let delay = this.minBackoffMs;
    let connectedBefore = false;
    while (!this.closed) {
      const client = new pg.Client({
        connectionString: this.connectionString,
        application_name: this.applicationName,
      });
      const dropped = new Promise<void>((resolve) => {
        client.on('error', (error) => {
          if (!this.closed) this.onError(error);
          resolve();
        });
        client.on('end', () => resolve());
      });
      client.on('notification', (message) => this.dispatch(message.channel, message.payload ?? ''));
      try {
        await client.connect();
        await client.query(
          `LISTEN ${LANE_CHANNEL}; LISTEN ${CANCEL_CHANNEL}; LISTEN ${EVENT_CHANNEL}`,
        );
        if (this.closed) {
          await client.end().catch(() => undefined);
          return;
        }
        this.client = client;
        delay = this.minBackoffMs;
        this.resolveListening();
        if (connectedBefore)
          for (const listener of this.reconnect) safely(() => listener(), this.onError);
        connectedBefore = true;
        await dropped;
        this.client = null;
      } catch (error) {
        if (!this.closed) this.onError(error instanceof Error ? error : new Error(String(error)));
        await client.end().catch(() => undefined);
      }
      if (this.closed) return;
      await this.sleep(delay);
      delay = Math.min(delay * 2, this.maxBackoffMs);
    }
  }

  private dispatch(channel: string, payload: string): void {
    const listeners =
      channel === LANE_CHANNEL
        ? this.lane
        : channel === CANCEL_CHANNEL
          ? this.cancel
          : channel === EVENT_CHANNEL
            ? this.event
            : null;
    for (const listener of listeners ?? []) safely(() => listener(payload), this.onError);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeSleep = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

function subscribe<T>(set: Set<Listener<T>>, listener: Listener<T>): () => void {
  set.add(listener);
  return () => set.delete(listener);
}

/** A throwing listener must not kill the LISTEN loop or the other listeners. */
function safely(fn: () => void, onError: (error: Error) => void): void {
  try {
    fn();
  } catch (error) {
    onError(error instanceof Error ? error : new Error(String(error)));
  }
}
