import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './server.js';

export interface Child {
  process: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Start a node script (through tsx) and wait for its `LISTENING <url>` line. */
export async function spawnServer(
  script: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = 30_000,
): Promise<Child> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', path], {
    env: { ...process.env, TAILOR_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`server did not start within ${timeoutMs} ms: ${stderr}`)),
      timeoutMs,
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /LISTENING (\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening: ${stderr}`));
    });
  });
  return {
    process: child,
    url,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** The `start <id> …` / `end <id> …` lines test executors append to their journal file. */
export function readJournal(file: string): { event: string; id: string }[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [event, id] = line.split(' ');
      return { event: event!, id: id! };
    });
}

/** A data directory, journal file and environment for `child-server.ts` as one stable node. */
export function childNode(nodeId: string): {
  dataDir: string;
  journal: string;
  env: NodeJS.ProcessEnv;
} {
  const dataDir = tempDir();
  const journal = join(dataDir, 'journal.txt');
  return {
    dataDir,
    journal,
    env: {
      TAILOR_DATA_DIR: dataDir,
      TAILOR_PORT: '0',
      TAILOR_NODE_ID: nodeId,
      TAILOR_TEST_JOURNAL: journal,
    },
  };
}
