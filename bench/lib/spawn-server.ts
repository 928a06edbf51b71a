import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ChildServer {
  url: string;
  rssMb(): Promise<number>;
  stop(): Promise<void>;
}

/** Start `server-child.ts` on a SQLite file and wait until it listens. */
export async function spawnServer(dbFile: string, types: readonly string[]): Promise<ChildServer> {
  const child: ChildProcess = fork(
    fileURLToPath(new URL('./server-child.ts', import.meta.url)),
    [dbFile, types.join(',')],
    {
      execArgv: ['--import', 'tsx', '--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const next = <T>(key: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const onMessage = (message: Record<string, unknown>): void => {
        if (key in message) {
          child.off('message', onMessage);
          resolve(message[key] as T);
        }
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
  const url = await next<string>('url');
  return {
    url,
    rssMb() {
      const answer = next<number>('rss');
      child.send({ rss: true });
      return answer;
    },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ stop: true });
      await exited;
    },
  };
}
