import type { Logger } from 'pino';
import type { TaskEvents } from '../scheduler/events.js';
import { PgNotifications, PostgresStore } from '../store/postgres/index.js';
import type { Store } from '../store/store.js';
import { ClusterBridge, type LocalLanes } from './bridge.js';

export { ClusterBridge, type LocalLanes } from './bridge.js';
export { parseClusterEvent, type ClusterEvent } from './events.js';

export interface ClusterOptions {
  store: Store;
  lanes: LocalLanes;
  events: TaskEvents;
  logger: Logger;
}

/**
 * Join the cluster when the store is PostgreSQL: a dedicated LISTEN connection feeding the
 * bridge. Null for any other store (a single SQLite node has nobody to hear from).
 */
export async function startClusterBridge(options: ClusterOptions): Promise<ClusterBridge | null> {
  const { store, logger } = options;
  if (!(store instanceof PostgresStore)) return null;
  const [row] = await store.db.rows<{ schema: string }>('SELECT current_schema() AS schema');
  const notifications = new PgNotifications({
    connectionString: store.connectionString,
    applicationName: 'pixivtailor-listen',
    onError: (error) => logger.warn({ err: error }, 'cluster LISTEN connection lost; reconnecting'),
  });
  const bridge = new ClusterBridge({
    notifications,
    store,
    lanes: options.lanes,
    events: options.events,
    logger,
    schema: store.schema ?? row?.schema ?? 'public',
    origin: store.origin,
  });
  await bridge.start();
  return bridge;
}
