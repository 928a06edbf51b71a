import { appendFileSync } from 'node:fs';
import { Type } from 'typebox';
import type { ExecutorContext, ExecutorDefinition } from '../../src/scheduler/executor.js';
import type { JsonObject } from '../../src/domain/task.js';

/**
 * Executors for tests. Each behaviour is chosen by the task's config, so one registered type
 * can sleep, fail, hang, ignore aborts or wait on a gate the test opens.
 */
export const TestConfig = Type.Object(
  {
    ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
    /** The first attempt sleeps this long instead of `ms` (one that will be interrupted). */
    firstAttemptMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
    gate: Type.Optional(Type.String()),
    fail: Type.Optional(Type.String()),
    throwSync: Type.Optional(Type.Boolean()),
    ignoreAbort: Type.Optional(Type.Boolean()),
    /** After an abort, keep running this long before returning (a slow but honest executor). */
    abortDelayMs: Type.Optional(Type.Integer({ minimum: 0 })),
    progress: Type.Optional(Type.Array(Type.Number())),
    logs: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
    logBytes: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
    result: Type.Optional(Type.Unknown()),
    label: Type.Optional(Type.String()),
    cookie: Type.Optional(Type.String()),
    writeFile: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export interface RunRecord {
  id: string;
  type: string;
  label: string | undefined;
  start: number;
  end: number | null;
  aborted: boolean;
}

/** What the executors saw, from their side: used to check the lane invariant and FIFO. */
export class Recorder {
  readonly runs: RunRecord[] = [];
  private active = new Map<string, number>();
  maxConcurrentPerType = new Map<string, number>();
  /** Pairs of distinct types seen running at the same moment. */
  overlappingTypes = new Set<string>();

  begin(ctx: ExecutorContext<JsonObject>): RunRecord {
    const record: RunRecord = {
      id: ctx.task.id,
      type: ctx.task.type,
      label: typeof ctx.config.label === 'string' ? ctx.config.label : undefined,
      start: performance.now(),
      end: null,
      aborted: false,
    };
    this.runs.push(record);
    const n = (this.active.get(record.type) ?? 0) + 1;
    this.active.set(record.type, n);
    this.maxConcurrentPerType.set(
      record.type,
      Math.max(n, this.maxConcurrentPerType.get(record.type) ?? 0),
    );
    for (const [type, count] of this.active) {
      if (type !== record.type && count > 0)
        this.overlappingTypes.add([type, record.type].sort().join('+'));
    }
    return record;
  }

  end(record: RunRecord): void {
    record.end = performance.now();
    this.active.set(record.type, (this.active.get(record.type) ?? 1) - 1);
  }

  startedIds(type?: string): string[] {
    return this.runs.filter((r) => type === undefined || r.type === type).map((r) => r.id);
  }
}

export class Gates {
  private readonly gates = new Map<
    string,
    { promise: Promise<void>; open: () => void; entered: number; waiters: (() => void)[] }
  >();

  private get(name: string) {
    let gate = this.gates.get(name);
    if (!gate) {
      let open!: () => void;
      const promise = new Promise<void>((resolve) => (open = resolve));
      gate = { promise, open, entered: 0, waiters: [] };
      this.gates.set(name, gate);
    }
    return gate;
  }

  open(name: string): void {
    this.get(name).open();
  }

  async wait(name: string): Promise<void> {
    const gate = this.get(name);
    gate.entered++;
    for (const waiter of gate.waiters.splice(0)) waiter();
    await gate.promise;
  }

  /** Resolves once an executor is waiting at the gate. */
  entered(name: string): Promise<void> {
    const gate = this.get(name);
    if (gate.entered > 0) return Promise.resolve();
    return new Promise((resolve) => gate.waiters.push(resolve));
  }
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    });
  });

export interface TestExecutorOptions {
  recorder?: Recorder;
  gates?: Gates;
  /** Append `start <id>` / `end <id>` lines to this file (for executors in child processes). */
  journal?: string;
}

export function testExecutor(type: string, options: TestExecutorOptions = {}): ExecutorDefinition {
  return {
    type,
    description: `test executor ${type}`,
    schema: TestConfig,
    async run(ctx) {
      const config = ctx.config as Record<string, unknown>;
      if (config.throwSync) throw new Error('thrown synchronously');
      const record = options.recorder?.begin(ctx);
      if (options.journal)
        appendFileSync(options.journal, `start ${ctx.task.id} ${type} ${Date.now()}\n`);
      const honest = async (ms: number): Promise<void> => {
        if (config.ignoreAbort) return new Promise((resolve) => setTimeout(resolve, ms));
        try {
          await sleep(ms, ctx.signal);
        } catch (error) {
          if (record) record.aborted = true;
          if (typeof config.abortDelayMs === 'number') await sleep(config.abortDelayMs);
          throw error;
        }
      };
      try {
        for (const pct of (config.progress as number[] | undefined) ?? []) {
          ctx.progress(pct, `at ${pct}`);
          await honest(5);
        }
        const lines = (config.logs as number | undefined) ?? 0;
        const filler = 'x'.repeat((config.logBytes as number | undefined) ?? 0);
        for (let i = 0; i < lines; i++)
          ctx.log('info', `line ${i + 1}${filler ? ` ${filler}` : ''}`);
        if (typeof config.writeFile === 'string') {
          const { writeFileSync } = await import('node:fs');
          writeFileSync(`${ctx.outputDir}/${config.writeFile}`, 'output');
        }
        if (typeof config.gate === 'string') {
          const gate = options.gates?.wait(config.gate);
          await (config.ignoreAbort
            ? gate
            : Promise.race([
                gate,
                new Promise((_, reject) => {
                  ctx.signal.addEventListener('abort', () => {
                    if (record) record.aborted = true;
                    const delay = (config.abortDelayMs as number | undefined) ?? 0;
                    setTimeout(() => reject(ctx.signal.reason as Error), delay);
                  });
                }),
              ]));
        }
        const ms =
          ctx.task.attempts === 1 && typeof config.firstAttemptMs === 'number'
            ? config.firstAttemptMs
            : config.ms;
        if (typeof ms === 'number') await honest(ms);
        if (typeof config.fail === 'string') throw new Error(config.fail);
        return (config.result ?? {
          done: true,
          cookie_seen: typeof config.cookie === 'string',
        }) as JsonObject;
      } finally {
        if (record) options.recorder?.end(record);
        if (options.journal)
          appendFileSync(options.journal, `end ${ctx.task.id} ${type} ${Date.now()}\n`);
      }
    },
  };
}
