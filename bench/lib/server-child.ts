/**
 * A server in a process of its own, so its RSS is the server's alone. Started by `spawnServer`;
 * answers `{ rss: true }` messages with its RSS in MB and exits on `{ stop: true }`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from 'typebox';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logging.js';
import { startServer } from '../../src/server.js';
import { rssMb } from './stats.js';

const [dbFile, typesArg] = process.argv.slice(2);
const types = (typesArg ?? '').split(',').filter(Boolean);
const config = loadConfig(
  {
    host: '127.0.0.1',
    port: 0,
    dataDir: mkdtempSync(join(tmpdir(), 'tailor-bench-')),
    db: dbFile,
    logLevel: 'silent',
    // Every seeded type can be listed and validated; only an empty lane is claimed.
    executors: ['bench-idle'],
  },
  {},
);
const server = await startServer({
  config,
  logger: createLogger('silent'),
  executors: [...types, 'bench-idle'].map((type) => ({
    type,
    schema: Type.Object({}),
    run: async () => undefined,
  })),
});
process.on('message', (message: { rss?: boolean; stop?: boolean }) => {
  if (message.rss) {
    global.gc?.();
    process.send?.({ rss: rssMb() });
  }
  if (message.stop) void server.close().then(() => process.exit(0));
});
process.send?.({ url: server.url });
