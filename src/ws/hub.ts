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
  /** A client whose queue grows past this many messages is dropped: it is not reading. */
  maxQueuedMessages: number;
  pingIntervalMs: number;
  /** Client messages allowed per second before the connection is closed. */
  maxMessagesPerSecond: number;
  /** Task subscriptions one client may hold. */
  maxSubscriptions: number;
}

export const DEFAULT_HUB_LIMITS: HubLimits = {
  highWaterBytes: 512 * 1024,
  maxQueuedMessages: 2_000,
  pingIntervalMs: 30_000,
  maxMessagesPerSecond: 200,
  maxSubscriptions: 1_000,
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
  drainTimer: NodeJS.Timeout | null;
  alive: boolean;
  windowStart: number;
  windowCount: number;
}

/**
 * Fans scheduler events out to WebSocket clients. Sending never waits on a client: each has a
 * bounded queue, task_status updates of the same status coalesce while they wait, and a client
 * past its bound is dropped — a slow or dead client can never slow the scheduler (seed defect 10).
 * `ws` serialises sends per socket, so there are no concurrent writes on one connection.
 */
export class WsHub {
  private readonly clients = new Set<Client>();
  private readonly unsubscribe: () => void;
  private readonly pinger: NodeJS.Timeout;

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
      drainTimer: null,
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
        for (const client of this.clients) {
          if (client.tasks.has(event.task.id)) this.sendStatus(client, event.task);
          else if (client.all) this.send(client, statusMessage(event.task), statusKey(event.task));
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
    if (client.queue.length === 0 && socket.bufferedAmount < this.limits.highWaterBytes) {
      socket.send(item.text);
      return;
    }
    if (item.coalesceKey) {
      // Only progress within one status is folded: every status transition is still delivered.
      const last = client.queue.findLastIndex((queued) => queued.coalesceKey !== undefined);
      if (last >= 0 && client.queue[last]!.coalesceKey === item.coalesceKey) {
        client.queue[last] = item;
        return;
      }
    }
    client.queue.push(item);
    if (client.queue.length > this.limits.maxQueuedMessages) {
      this.logger.warn(
        { queued: client.queue.length },
        'dropping a websocket client that does not read',
      );
      socket.terminate();
      this.forget(client);
      return;
    }
    client.drainTimer ??= setTimeout(() => this.drain(client), 20);
  }

  private drain(client: Client): void {
    client.drainTimer = null;
    const { socket } = client;
    if (socket.readyState !== socket.OPEN) return;
    while (client.queue.length > 0 && socket.bufferedAmount < this.limits.highWaterBytes) {
      socket.send(client.queue.shift()!.text);
    }
    if (client.queue.length > 0) client.drainTimer = setTimeout(() => this.drain(client), 20);
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
    if (client.drainTimer) clearTimeout(client.drainTimer);
    client.queue = [];
    this.clients.delete(client);
  }
}

function statusKey(task: Task): string {
  return `${task.id}:${task.status}`;
}
