import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { Task } from '../domain/task.js';
import type { TaskEvent, TaskEvents } from '../scheduler/events.js';
import {
  createdMessage,
  parseClientMessage,
  statusMessage,
  type ServerMessage,
} from './messages.js';

export interface HubLimits {
  /** Above this many bytes unsent in the socket, messages wait in the client's own queue. */
  highWaterBytes: number;
  /**
   * A client with more than this many messages queued whose socket stays full (at or above
   * `highWaterBytes`) for `stallMs` is dropped: it is not reading. A client that keeps reading,
   * however far a burst puts it behind, is not.
   */
  maxQueuedMessages: number;
  stallMs: number;
  /** A client with more than this many messages queued is dropped at once, reading or not. */
  hardMaxQueuedMessages: number;
  pingIntervalMs: number;
  /** Client messages allowed per second before the connection is closed. */
  maxMessagesPerSecond: number;
  /** Task subscriptions one client may hold. */
  maxSubscriptions: number;
  /**
   * Messages of the same window go out to each socket in one write. The first message after a
   * quiet period leaves at once; under load each socket gets at most one write per window, which
   * is what lets a thousand clients follow hundreds of events a second (one write syscall per
   * message per client would saturate the event loop).
   */
  batchMs: number;
}

export const DEFAULT_HUB_LIMITS: HubLimits = {
  highWaterBytes: 512 * 1024,
  maxQueuedMessages: 2_000,
  stallMs: 10_000,
  hardMaxQueuedMessages: 50_000,
  pingIntervalMs: 30_000,
  maxMessagesPerSecond: 200,
  maxSubscriptions: 1_000,
  batchMs: 25,
};

interface Queued {
  text: string;
  /** task_status of this task and status may be replaced by a newer one while it waits. */
  coalesceKey?: string;
}

interface Client {
  socket: WebSocket;
  all: boolean;
  /** Subscribed task ids → highest task version sent, to order the snapshot against events. */
  tasks: Map<string, number>;
  queue: Queued[];
  /** When its socket was last seen full with more than `maxQueuedMessages` waiting; else null. */
  stalledSince: number | null;
  alive: boolean;
  windowStart: number;
  windowCount: number;
}

/**
 * Fans scheduler events out to WebSocket clients. Sending never waits on a client: each has a
 * bounded queue, task_status updates of the same status coalesce while they wait, and a client
 * past its bound is dropped — a slow or dead client can never slow the scheduler.
 * `ws` serialises sends per socket, so there are no concurrent writes on one connection.
 */
export class WsHub {
  private readonly clients = new Set<Client>();
  private readonly unsubscribe: () => void;
  private readonly pinger: NodeJS.Timeout;
  /** Clients with queued messages, written by the next flush. */
  private readonly pending = new Set<Client>();
  private flushTimer: NodeJS.Timeout | null = null;
  private lastFlush = 0;

  constructor(
    events: TaskEvents,
    private readonly loadTask: (id: string) => Promise<Task | null>,
    private readonly logger: Logger,
    private readonly limits: HubLimits = DEFAULT_HUB_LIMITS,
  ) {
    this.unsubscribe = events.subscribe((event) => this.broadcast(event));
    this.pinger = setInterval(() => this.keepAlive(), limits.pingIntervalMs);
    this.pinger.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  attach(socket: WebSocket): void {
    const client: Client = {
      socket,
      all: false,
      tasks: new Map(),
      queue: [],
      stalledSince: null,
      alive: true,
      windowStart: Date.now(),
      windowCount: 0,
    };
    this.clients.add(client);
    socket.on('pong', () => (client.alive = true));
    socket.on('message', (data, isBinary) => {
      if (isBinary)
        return this.send(client, { type: 'error', message: 'binary messages are not supported' });
      // A failure here must not become an unhandled rejection: that would end the process.
      this.onMessage(client, data.toString()).catch((error: unknown) => {
        this.logger.error({ err: error }, 'websocket message failed');
        this.send(client, { type: 'error', message: 'internal error' });
      });
    });
    socket.on('close', () => this.forget(client));
    socket.on('error', () => this.forget(client));
  }

  close(): void {
    this.unsubscribe();
    clearInterval(this.pinger);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.pending.clear();
    for (const client of this.clients) client.socket.terminate();
    this.clients.clear();
  }

  private async onMessage(client: Client, raw: string): Promise<void> {
    const now = Date.now();
    if (now - client.windowStart >= 1000) {
      client.windowStart = now;
      client.windowCount = 0;
    }
    if (++client.windowCount > this.limits.maxMessagesPerSecond) {
      client.socket.close(1008, 'too many messages');
      return;
    }
    const message = parseClientMessage(raw);
    if (typeof message === 'string') return this.send(client, { type: 'error', message });
    switch (message.type) {
      case 'ping':
        return this.send(client, { type: 'pong' });
      case 'subscribe_all':
        client.all = true;
        return;
      case 'unsubscribe_all':
        client.all = false;
        return;
      case 'unsubscribe_task':
        client.tasks.delete(message.task_id);
        return;
      case 'subscribe_task': {
        if (
          !client.tasks.has(message.task_id) &&
          client.tasks.size >= this.limits.maxSubscriptions
        ) {
          return this.send(client, {
            type: 'error',
            message: `at most ${this.limits.maxSubscriptions} task subscriptions`,
          });
        }
        // Subscribe before reading, so no transition can fall between the read and the
        // subscription; the version check drops events the snapshot already covers.
        if (!client.tasks.has(message.task_id)) client.tasks.set(message.task_id, 0);
        let task: Task | null;
        try {
          task = await this.loadTask(message.task_id);
        } catch (error) {
          this.logger.error({ err: error }, 'websocket snapshot failed');
          return this.send(client, {
            type: 'error',
            message: 'could not read the task; try again',
          });
        }
        if (!task) {
          client.tasks.delete(message.task_id);
          return this.send(client, { type: 'error', message: `task ${message.task_id} not found` });
        }
        if (!client.tasks.has(task.id)) return; // unsubscribed meanwhile
        this.sendStatus(client, task);
        return;
      }
    }
  }

  private broadcast(event: TaskEvent): void {
    if (this.clients.size === 0) return;
    switch (event.kind) {
      case 'status': {
        // Serialised once for every client subscribed to all: fan-out to a thousand sockets
        // must not stringify the same message a thousand times.
        let shared: Queued | null = null;
        for (const client of this.clients) {
          if (client.tasks.has(event.task.id)) this.sendStatus(client, event.task);
          else if (client.all) {
            shared ??= {
              text: JSON.stringify(statusMessage(event.task)),
              coalesceKey: statusKey(event.task),
            };
            this.sendText(client, shared);
          }
        }
        return;
      }
      case 'log': {
        const text = JSON.stringify({ type: 'task_log', ...event.log } satisfies ServerMessage);
        for (const client of this.clients) {
          if (client.all || client.tasks.has(event.log.task_id)) this.sendText(client, { text });
        }
        return;
      }
      case 'created': {
        const text = JSON.stringify(createdMessage(event.task));
        for (const client of this.clients) if (client.all) this.sendText(client, { text });
        return;
      }
      case 'deleted': {
        const text = JSON.stringify({
          type: 'task_deleted',
          task_id: event.taskId,
        } satisfies ServerMessage);
        for (const client of this.clients) {
          if (client.all || client.tasks.has(event.taskId)) this.sendText(client, { text });
        }
        return;
      }
    }
  }

  /** A task_status only if it is newer than what this client already has for that task. */
  private sendStatus(client: Client, task: Task): void {
    const sent = client.tasks.get(task.id) ?? 0;
    if (task.version <= sent) return;
    client.tasks.set(task.id, task.version);
    this.send(client, statusMessage(task), statusKey(task));
  }

  private send(client: Client, message: ServerMessage, coalesceKey?: string): void {
    this.sendText(client, {
      text: JSON.stringify(message),
      ...(coalesceKey ? { coalesceKey } : {}),
    });
  }

  private sendText(client: Client, item: Queued): void {
    const { socket } = client;
    if (socket.readyState !== socket.OPEN) return;
    if (item.coalesceKey) {
      // Only progress within one status is folded: every status transition is still delivered.
      const last = client.queue.findLastIndex((queued) => queued.coalesceKey !== undefined);
      if (last >= 0 && client.queue[last]!.coalesceKey === item.coalesceKey) {
        client.queue[last] = item;
        return;
      }
    }
    client.queue.push(item);
    if (this.dropIfNotReading(client)) return;
    this.pending.add(client);
    this.scheduleFlush(this.limits.batchMs - (Date.now() - this.lastFlush));
  }

  private scheduleFlush(delayMs: number): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => this.flush(), Math.max(0, delayMs));
  }

  /** One corked write per socket of everything it has queued, up to its high-water mark. */
  private flush(): void {
    this.flushTimer = null;
    this.lastFlush = Date.now();
    const clients = [...this.pending];
    this.pending.clear();
    for (const client of clients) {
      const { socket } = client;
      if (socket.readyState !== socket.OPEN) continue;
      // It took what the last flush wrote: whatever is queued, it is reading.
      if (socket.bufferedAmount < this.limits.highWaterBytes) client.stalledSince = null;
      const raw = rawSocket(socket);
      // Corked writes count in bufferedAmount until uncork hands them to the kernel: write in
      // rounds of up to the high-water mark while the kernel keeps taking them.
      while (client.queue.length > 0 && socket.bufferedAmount < this.limits.highWaterBytes) {
        raw?.cork();
        while (client.queue.length > 0 && socket.bufferedAmount < this.limits.highWaterBytes) {
          socket.send(client.queue.shift()!.text);
        }
        raw?.uncork();
      }
      if (this.dropIfNotReading(client)) continue;
      // A socket past its high-water mark keeps the rest queued (and coalescing) until it drains.
      if (client.queue.length > 0) this.pending.add(client);
    }
    if (this.pending.size > 0) this.scheduleFlush(this.limits.batchMs);
  }

  /**
   * Only a socket that is not taking its writes is judged, and over time: a burst may queue far
   * more than the bound for a client that reads perfectly well, just later (Redis judges its
   * clients' output buffers the same way, with a soft limit held for a while and a hard one).
   */
  private dropIfNotReading(client: Client): boolean {
    const queued = client.queue.length;
    if (queued <= this.limits.maxQueuedMessages) {
      client.stalledSince = null;
      return false;
    }
    const now = Date.now();
    if (queued <= this.limits.hardMaxQueuedMessages) {
      // `flush` clears the mark whenever it finds the socket drained below its high-water mark.
      client.stalledSince ??= now;
      if (now - client.stalledSince < this.limits.stallMs) return false;
    }
    this.logger.warn(
      { queued, stalled_ms: client.stalledSince === null ? 0 : now - client.stalledSince },
      'dropping a websocket client that does not read',
    );
    client.socket.terminate();
    this.forget(client);
    return true;
  }

  private keepAlive(): void {
    for (const client of this.clients) {
      if (!client.alive) {
        client.socket.terminate();
        this.forget(client);
        continue;
      }
      client.alive = false;
      client.socket.ping();
    }
  }

  private forget(client: Client): void {
    this.pending.delete(client);
    client.queue = [];
    this.clients.delete(client);
  }
}

/**
 * The TCP socket under a ws connection, to cork several frames into one write. `_socket` is not
 * public API; without it messages are still sent, one write each.
 */
function rawSocket(socket: WebSocket): { cork(): void; uncork(): void } | null {
  const raw = (socket as unknown as { _socket?: { cork?: unknown; uncork?: unknown } })._socket;
  return raw && typeof raw.cork === 'function' && typeof raw.uncork === 'function'
    ? (raw as { cork(): void; uncork(): void })
    : null;
}

function statusKey(task: Task): string {
  return `${task.id}:${task.status}`;
}
