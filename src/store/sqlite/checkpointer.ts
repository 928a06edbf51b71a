/**
 * The WAL checkpointer: a worker thread that checkpoints one database file from a connection of
 * its own.
 *
 * SQLite's automatic checkpoint runs inside whichever COMMIT crosses the threshold (1,000 WAL
 * pages), and a checkpoint syncs the database file: ~5 ms here, spent on the scheduler's event
 * loop every ~45 ms at full load. Here it happens off that loop. PASSIVE never blocks the writer;
 * commits are as durable as before (they are in the WAL either way).
 *
 * The worker's code is plain JavaScript evaluated from this string, so it starts the same way
 * from the compiled build and from the TypeScript sources (a worker does not inherit the loader
 * that runs `.ts` files). `better-sqlite3` is resolved by the parent and passed in.
 */
export const CHECKPOINTER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
let last = '';
const timer = setInterval(() => {
  try {
    // { busy, log: frames in the WAL, checkpointed: of those, frames now in the database file }
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    const report = JSON.stringify({ log: result.log, checkpointed: result.checkpointed });
    if (report !== last) parentPort.postMessage((last = report));
  } catch {
    // Busy or closing: the next round tries again.
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;
