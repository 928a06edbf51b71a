import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Task } from '../../src/client/index.js';
import { TEST_TYPES, eventually, startTestServer } from '../helpers/server.js';

/**
 * Randomized load through the HTTP API. Size with STRESS_TASKS (CI runs the full 1,000+).
 * Checked from the executors' side: never two runs of one type at once, different types do
 * overlap, FIFO within each lane for tasks created once and never re-run, every task ends in
 * exactly one terminal state, nothing is lost and nothing completed runs twice.
 */
const TOTAL = Number(process.env.STRESS_TASKS ?? 1000);
const CLIENTS = 12;

// A small deterministic PRNG, so a failure can be replayed with the printed seed.
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test(
  `${TOTAL} tasks over ${TEST_TYPES.length} lanes from ${CLIENTS} clients with cancels, stops, re-runs and deletes keep every lane invariant`,
  { timeout: 600_000 },
  async () => {
    const seed = Number(process.env.STRESS_SEED ?? Date.now() % 100000);
    console.log(`stress seed ${seed}`);
    const random = prng(seed);
    const s = await startTestServer({ config: { graceMs: 500 } });
    try {
      const created: Task[] = [];
      const rerun = new Set<string>();
      const deleted = new Set<string>();
      let issued = 0;
      const clientLoop = async (): Promise<void> => {
        while (issued < TOTAL) {
          issued++;
          const type = TEST_TYPES[Math.floor(random() * TEST_TYPES.length)]!;
          const roll = random();
          const config =
            roll < 0.05 ? { fail: 'planned failure' } : { ms: Math.floor(random() * 4) };
          created.push(await s.client.createTask(type, config));
          const action = random();
          if (action < 0.15 && created.length > 0) {
            const victim = created[Math.floor(random() * created.length)]!;
            if (deleted.has(victim.id)) continue;
            const act = random();
            try {
              if (act < 0.4) await s.client.cancelTask(victim.id);
              else if (act < 0.6) await s.client.stopTask(victim.id);
              else if (act < 0.85) {
                const task = await s.client.startTask(victim.id);
                if (task.status === 'pending') rerun.add(victim.id);
              } else {
                deleted.add(victim.id);
                await s.client.deleteTask(victim.id);
              }
            } catch (error) {
              const status = (error as { httpStatus?: number }).httpStatus;
              // 409: it moved on meanwhile (e.g. finished before the stop). Anything else is a bug.
              assert.ok(status === 409, `unexpected error ${String(error)}`);
            }
          }
        }
      };
      await Promise.all(Array.from({ length: CLIENTS }, clientLoop));

      const final = await eventually(
        async () => {
          const all: Task[] = [];
          for (let page = 1; ; page++) {
            const { tasks } = await s.client.getTasks({ page, page_size: 100 });
            all.push(...tasks);
            if (tasks.length < 100) break;
          }
          return all.every((t) => t.status !== 'pending' && t.status !== 'running')
            ? all
            : undefined;
        },
        300_000,
        'every task to reach a terminal state',
      );

      // Nothing lost: every created task is either deleted or present, each exactly once.
      const ids = new Set(final.map((t) => t.id));
      assert.equal(ids.size, final.length, 'a task is listed twice');
      for (const task of created)
        assert.ok(deleted.has(task.id) || ids.has(task.id), `task ${task.id} was lost`);
      assert.equal(final.length, created.filter((t) => !deleted.has(t.id)).length);

      // The lane invariant, from the executors' side.
      for (const type of TEST_TYPES)
        assert.equal(
          s.recorder.maxConcurrentPerType.get(type) ?? 0,
          1,
          `two ${type} tasks overlapped`,
        );
      assert.ok(s.recorder.overlappingTypes.size > 0, 'different lanes never ran at the same time');

      // FIFO within each lane, for tasks created once and never re-run (ids sort by creation).
      for (const type of TEST_TYPES) {
        const firstStarts = [
          ...new Set(
            s.recorder.runs.filter((r) => r.type === type && !rerun.has(r.id)).map((r) => r.id),
          ),
        ];
        assert.deepEqual(firstStarts, [...firstStarts].sort(), `lane ${type} was not FIFO`);
      }

      // No duplicate execution: a completed task that was never re-run ran exactly once.
      const runsById = new Map<string, number>();
      for (const r of s.recorder.runs) runsById.set(r.id, (runsById.get(r.id) ?? 0) + 1);
      for (const task of final) {
        if (task.status === 'completed' && !rerun.has(task.id))
          assert.equal(runsById.get(task.id), 1, `task ${task.id} ran twice`);
        if (task.status === 'completed') assert.equal(task.progress, 100);
      }
      console.log(
        `stress: ${created.length} created, ${deleted.size} deleted, ${rerun.size} re-run, ${s.recorder.runs.length} executions, statuses ${JSON.stringify(countBy(final))}`,
      );
    } finally {
      await s.dispose();
    }
  },
);

function countBy(tasks: Task[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of tasks) out[t.status] = (out[t.status] ?? 0) + 1;
  return out;
}
