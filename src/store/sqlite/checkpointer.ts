/**
 * Runs in a worker thread: checkpoints the WAL of one database file from a connection of its own.
 *
 * SQLite's automatic checkpoint runs inside whichever COMMIT crosses the threshold, and a
 * checkpoint syncs the database file — several milliseconds on an ordinary disk, spent on the
 * event loop of the scheduler every few dozen commits. Here it happens off that loop. PASSIVE
 * never blocks the writer; commits are as durable as before (they are in the WAL either way).
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

const { file, intervalMs } = workerData as { file: string; intervalMs: number };
const db = new Database(file);
db.pragma('busy_timeout = 5000');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or closing: the next round tries again.
  }
}, intervalMs);
parentPort?.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
