import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from 'typebox';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logging.js';
import type { ExecutorDefinition } from '../../src/scheduler/executor.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { freshSchema } from './postgres.js';

export type StoreKind = 'sqlite' | 'postgres';

export const laneTypes = (lanes: number): string[] =>
  Array.from({ length: lanes }, (_, i) => `lane${i}`);

/** Executor starts as the executors see them: the lane invariant and start latency come from here. */
export class LaneProbe {
  readonly starts = new Map<number, number>();
  maxConcurrentSameLane = 0;
  private readonly active = new Map<string, number>();

  /** A no-op executor per type; `config.n` names the task for latency samples. */
  executors(types: readonly string[]): ExecutorDefinition[] {
    return types.map((type) => ({
      type,
      schema: Type.Object({ n: Type.Optional(Type.Integer()) }),
      run: async (ctx) => {
        const n = typeof ctx.config.n === 'number' ? ctx.config.n : -1;
        if (n >= 0) this.starts.set(n, performance.now());
        const now = (this.active.get(type) ?? 0) + 1;
        this.active.set(type, now);
        this.maxConcurrentSameLane = Math.max(this.maxConcurrentSameLane, now);
        // Yield once, so an overlapping start of the same lane would be seen here.
        await Promise.resolve();
        this.active.set(type, (this.active.get(type) ?? 1) - 1);
      },
    }));
  }
}

export interface BenchServer {
  server: RunningServer;
  dispose(): Promise<void>;
}

/** The real composition root (`startServer`), on a fresh database, with silent logs. */
export async function startBenchServer(
  kind: StoreKind,
  executors: ExecutorDefinition[],
  options: { enable?: string[]; dbFile?: string } = {},
): Promise<BenchServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tailor-bench-'));
  const schema = kind === 'postgres' ? await freshSchema() : null;
  const config = loadConfig(
    {
      host: '127.0.0.1',
      port: 0,
      dataDir,
      db: schema ? schema.url : (options.dbFile ?? join(dataDir, 'tailor.db')),
      logLevel: 'silent',
      ...(options.enable ? { executors: options.enable } : {}),
    },
    {},
  );
  const server = await startServer({ config, executors, logger: createLogger('silent') });
  return {
    server,
    async dispose() {
      await server.close();
      await schema?.dispose();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
