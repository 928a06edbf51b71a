/**
 * One cluster node in its own process, configured from the environment like `tailor serve`
 * (TAILOR_DB=postgres://…?schema=…, TAILOR_PORT, TAILOR_NODE_ID, TAILOR_LEASE_MS,
 * TAILOR_EXECUTORS…). It registers the test executors of `executors.ts` for every test type,
 * journaling to TAILOR_TEST_JOURNAL (`start <id> <type> <ms>` / `end …`), so a test can check
 * the lane invariant across processes from the executors' side, even after a SIGKILL.
 * Prints `LISTENING <url>` once it accepts requests.
 */
import { loadConfig } from '../../src/config/config.js';
import { startServer } from '../../src/server.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { testExecutor } from './executors.js';
import { TEST_TYPES } from './server.js';

const journal = process.env.TAILOR_TEST_JOURNAL;
const config = loadConfig({}, process.env);
const server = await startServer({
  config,
  // Small pools: several clusters of several nodes share one test server's max_connections.
  store: new PostgresStore({ connectionString: config.db, poolSize: 4 }),
  executors: TEST_TYPES.map((type) => testExecutor(type, journal ? { journal } : {})),
  scheduler: { progressIntervalMs: 20, logFlushMs: 10 },
});
process.stdout.write(`LISTENING ${server.url}\n`);
const stop = (): void => {
  void server.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
