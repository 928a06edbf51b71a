import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { TailorClient, type SocketFactory } from '../../src/client/index.js';
import { loadConfig, type ConfigInput, type TailorConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logging.js';
import type { ExecutorDefinition } from '../../src/scheduler/executor.js';
import { builtInModules } from '../../src/executors/index.js';
import {
  moduleSettings,
  startServer,
  type RunningServer,
  type ServerOptions,
} from '../../src/server.js';
import { Gates, Recorder, testExecutor } from './executors.js';

export const TEST_TYPES = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'] as const;

export interface TestServer extends RunningServer {
  client: TailorClient;
  recorder: Recorder;
  gates: Gates;
  dataDir: string;
  /** Close the server and delete its data directory. */
  dispose(): Promise<void>;
}

export function tempDir(prefix = 'tailor-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * A real server on 127.0.0.1 with an ephemeral port, a fresh SQLite file and test executors.
 * The safety poll is set to an hour, so a test passing proves lanes start without polling.
 */
export async function startTestServer(
  options: {
    config?: ConfigInput;
    executors?: (recorder: Recorder, gates: Gates) => ExecutorDefinition[];
    dataDir?: string;
    server?: Partial<ServerOptions>;
    env?: NodeJS.ProcessEnv;
  } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? tempDir();
  const recorder = new Recorder();
  const gates = new Gates();
  const config: TailorConfig = loadConfig(
    {
      host: '127.0.0.1',
      port: 0,
      dataDir,
      pollMs: 3_600_000,
      graceMs: 2_000,
      logLevel: 'silent',
      ...options.config,
    },
    options.env ?? {},
    undefined,
    moduleSettings([...builtInModules, ...(options.server?.modules ?? [])]),
  );
  const executors = options.executors
    ? options.executors(recorder, gates)
    : TEST_TYPES.map((type) => testExecutor(type, { recorder, gates }));
  const server = await startServer({
    config,
    executors,
    logger: createLogger(config.logLevel),
    scheduler: { progressIntervalMs: 20, logFlushMs: 10 },
    ...options.server,
  });
  const client = new TailorClient({
    baseUrl: server.url,
    token: config.token,
    WebSocket: WebSocket as unknown as SocketFactory,
  });
  return {
    ...server,
    client,
    recorder,
    gates,
    dataDir,
    async dispose() {
      await server.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Poll `check` until it returns a value (not undefined/false), or fail after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export async function waitForStatus(
  client: TailorClient,
  id: string,
  statuses: string[],
  timeoutMs = 20_000,
) {
  return eventually(
    async () => {
      const task = await client.getTask(id);
      return statuses.includes(task.status) ? task : undefined;
    },
    timeoutMs,
    `task ${id} to become ${statuses.join('/')}`,
  );
}

/** Raw HTTP for bad-input tests: returns status and parsed body without the client's checks. */
export async function rawPost(
  url: string,
  path: string,
  body: string,
  headers: Record<string, string> = { 'content-type': 'application/json' },
) {
  const response = await fetch(url + path, { method: 'POST', headers, body });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return {
    status: response.status,
    body: json as {
      status: { code: number; message: string; details?: unknown };
      data?: unknown;
    } | null,
    text,
  };
}
