/**
 * The cluster bridge: what one node learns from the others through PostgreSQL LISTEN/NOTIFY.
 * PostgreSQL carries the cluster; there is no protocol between nodes.
 *
 *   tailor_lane    a lane may have work (a task was queued, or one ended elsewhere) → wake it here
 *   tailor_cancel  someone asked, on any node, to stop a task → abort it if this node runs it
 *   tailor_event   another node changed a task → re-read it and publish it on the local
 *                  `TaskEvents`, so this node's WebSocket clients see every task of the cluster
 *
 * Every signal is a hint backed by the database: lanes are re-read by the claim, a cancel is a
 * durable flag the heartbeat also reports, and events are re-read rows. Notifications sent while
 * the LISTEN connection is down are lost, so a reconnect wakes every lane and re-reads the tasks
 * this node was relaying.
 *
 * Order: PostgreSQL delivers notifications in commit order, and the events of one task are
 * handled one after another (a chain per task), so they are published in commit order too.
 */
import type { Logger } from 'pino';
import { isTerminal, type Task } from '../domain/task.js';
import type { TaskEvents } from '../scheduler/events.js';
import type { Store } from '../store/store.js';
import type { PgNotifications } from '../store/postgres/notifications.js';
import { parseClusterEvent, type ClusterEvent } from './events.js';

/** The scheduler as the bridge drives it. */
export interface LocalLanes {
  wake(type?: string): void;
  abortLocal(id: string, reason: 'cancel' | 'lease-lost'): void;
}

export interface ClusterBridgeOptions {
  notifications: PgNotifications;
  store: Store;
  lanes: LocalLanes;
  events: TaskEvents;
  logger: Logger;
  /** The schema this cluster's tables live in; events of other schemas are ignored. */
  schema: string;
  /** This node's store origin: its own events are already published locally. */
  origin: string;
}

/** Tasks whose events this node relays and may have to re-read after a reconnect. */
const MAX_TRACKED = 10_000;
const LOG_PAGE = 1_000;

export class ClusterBridge {
  private readonly options: ClusterBridgeOptions;
  private readonly unsubscribe: (() => void)[] = [];
  /** One promise chain per task, so its events leave in the order they were committed. */
  private readonly chains = new Map<string, Promise<void>>();
  /** Non-terminal tasks of other nodes → the last version relayed. */
  private readonly tracked = new Map<string, { type: string; version: number }>();
  /**
   * The highest version of each task published on the local bus, by this node or relayed. A
   * change this node made itself is published at once, while a notification of an older change
   * made elsewhere may still be on its way: it is dropped rather than shown out of order.
   */
  private readonly published = new Map<string, number>();
  private closed = false;

  constructor(options: ClusterBridgeOptions) {
    this.options = options;
  }

  /** Resolves once LISTEN is in place, so nothing committed afterwards is missed. */
  async start(): Promise<void> {
    const { notifications, lanes } = this.options;
    this.unsubscribe.push(
      notifications.onLane((type) => lanes.wake(type)),
      notifications.onCancel((id) => lanes.abortLocal(id, 'cancel')),
      notifications.onEvent((payload) => this.receive(payload)),
      notifications.onReconnect(() => this.resync()),
      this.options.events.subscribe((event) => {
        if (event.kind === 'created' || event.kind === 'status') this.notePublished(event.task);
        if (event.kind === 'deleted') this.published.delete(event.taskId);
      }),
    );
    await notifications.start();
  }

  get connected(): boolean {
    return this.options.notifications.connected;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const off of this.unsubscribe) off();
    await this.options.notifications.close();
    await Promise.all([...this.chains.values()]);
  }

  private receive(payload: string): void {
    const event = parseClusterEvent(payload);
    if (!event || event.schema !== this.options.schema || event.origin === this.options.origin)
      return;
    this.enqueue(event.id, () => this.relay(event));
  }

  private enqueue(id: string, work: () => Promise<void>): void {
    if (this.closed) return;
    const chain = (this.chains.get(id) ?? Promise.resolve())
      .then(work)
      .catch((error: unknown) => {
        this.options.logger.warn({ err: error, task_id: id }, 'cluster event could not be relayed');
      })
      .finally(() => {
        if (this.chains.get(id) === chain) this.chains.delete(id);
      });
    this.chains.set(id, chain);
  }

  private async relay(event: ClusterEvent): Promise<void> {
    const { store, events } = this.options;
    switch (event.kind) {
      case 'deleted':
        this.tracked.delete(event.id);
        events.publish({ kind: 'deleted', taskId: event.id, type: event.type });
        return;
      case 'log':
        for (let after = event.firstSeq - 1; after < event.lastSeq;) {
          const logs = await store.listLogs(
            event.id,
            after,
            Math.min(LOG_PAGE, event.lastSeq - after),
          );
          if (logs.length === 0) return; // deleted meanwhile
          for (const log of logs) events.publish({ kind: 'log', log });
          after = logs[logs.length - 1]!.seq;
        }
        return;
      case 'created':
      case 'status': {
        if (event.version <= (this.published.get(event.id) ?? 0)) return;
        const current = await store.getTask(event.id);
        if (!current) return; // deleted since: its `deleted` event follows
        if (event.version <= (this.published.get(event.id) ?? 0)) return; // overtaken meanwhile
        // The row may have moved on since this change; show the change itself, so a client sees
        // every transition (pending → running → completed), not only the latest state.
        const task: Task =
          current.version !== event.version && event.fields
            ? { ...current, ...event.fields, version: event.version }
            : current;
        this.track(task);
        events.publish(
          event.kind === 'created' ? { kind: 'created', task } : { kind: 'status', task },
        );
        return;
      }
    }
  }

  private notePublished(task: Task): void {
    if (task.version <= (this.published.get(task.id) ?? 0)) return;
    this.published.delete(task.id);
    this.published.set(task.id, task.version);
    if (this.published.size > MAX_TRACKED) {
      const oldest = this.published.keys().next().value;
      if (oldest !== undefined) this.published.delete(oldest);
    }
  }

  private track(task: Task): void {
    if (isTerminal(task.status)) {
      this.tracked.delete(task.id);
      return;
    }
    this.tracked.delete(task.id);
    this.tracked.set(task.id, { type: task.type, version: task.version });
    if (this.tracked.size > MAX_TRACKED) {
      const oldest = this.tracked.keys().next().value;
      if (oldest !== undefined) this.tracked.delete(oldest);
    }
  }

  /** After a reconnect: every lane may have work, and tracked tasks may have changed unseen. */
  private resync(): void {
    this.options.logger.info(
      { tracked: this.tracked.size },
      'cluster notifications reconnected; re-reading',
    );
    this.options.lanes.wake();
    for (const [id, known] of this.tracked) {
      this.enqueue(id, async () => {
        const task = await this.options.store.getTask(id);
        if (!task) {
          this.tracked.delete(id);
          this.options.events.publish({ kind: 'deleted', taskId: id, type: known.type });
          return;
        }
        if (task.version <= (this.published.get(id) ?? 0)) return;
        this.track(task);
        this.options.events.publish({ kind: 'status', task });
      });
    }
  }
}
