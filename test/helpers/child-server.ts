/**
 * A server in its own process for crash tests: configured from the environment like
 * `tailor serve`, with the test executors of `executors.ts` writing a journal file, so the test
 * can see what ran even after this process is killed. Prints `LISTENING <url>` when ready.
 */
import { loadConfig } from '../../src/config/config.js';
import { startServer } from '../../src/server.js';
import { testExecutor } from './executors.js';
import { TEST_TYPES } from './server.js';

const journal = process.env.TAILOR_TEST_JOURNAL;
const config = loadConfig({}, process.env);
const server = await startServer({
  config,
  executors: TEST_TYPES.map((type) => testExecutor(type, journal ? { journal } : {})),
});
process.stdout.write(`LISTENING ${server.url}\n`);
const stop = (): void => {
  void server.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
