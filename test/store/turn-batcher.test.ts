import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TurnBatcher } from '../../src/store/postgres/batcher.js';

/** A write that records every statement it was given, and fails on inputs marked bad. */
function recorder(options: { failWith?: (inputs: readonly number[]) => Error | null } = {}) {
  const statements: number[][] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const write = async (inputs: readonly number[]): Promise<string[]> => {
    statements.push([...inputs]);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    // Yield to the event loop like a round trip would, so overlapping writes would overlap.
    await new Promise((resolve) => setTimeout(resolve, 1));
    inFlight--;
    const error = options.failWith?.(inputs);
    if (error) throw error;
    return inputs.map((n) => `row${n}`);
  };
  return { write, statements, maxInFlight: () => maxInFlight };
}

const never = () => false;

describe('TurnBatcher', () => {
  test('the calls of one turn share one statement per chunk, written in call order, one at a time', async () => {
    const rec = recorder();
    const batcher = new TurnBatcher<number, string>(rec.write, never, 4);
    const inputs = Array.from({ length: 10 }, (_, i) => i);
    const outputs = await Promise.all(inputs.map((n) => batcher.add(n)));
    assert.deepEqual(
      outputs,
      inputs.map((n) => `row${n}`),
    );
    assert.deepEqual(rec.statements, [
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    assert.equal(rec.maxInFlight(), 1, 'chunks of one turn never run side by side');
  });

  test('a chunk that fails is written again input by input, in order, and only the bad input fails', async () => {
    const rec = recorder({
      failWith: (inputs) => (inputs.includes(2) ? new Error('bad 2') : null),
    });
    const batcher = new TurnBatcher<number, string>(rec.write, never, 10);
    const results = await Promise.allSettled([0, 1, 2, 3].map((n) => batcher.add(n)));
    assert.deepEqual(
      results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
      ['row0', 'row1', 'bad 2', 'row3'],
    );
    assert.deepEqual(rec.statements, [[0, 1, 2, 3], [0], [1], [2], [3]]);
    assert.equal(rec.maxInFlight(), 1);
  });

  test('a chunk whose statement may have committed is not written again: every call gets the error', async () => {
    const lost = new Error('Connection terminated unexpectedly');
    const rec = recorder({ failWith: () => lost });
    const batcher = new TurnBatcher<number, string>(rec.write, (error) => error === lost, 10);
    const results = await Promise.allSettled([0, 1, 2].map((n) => batcher.add(n)));
    assert.ok(results.every((r) => r.status === 'rejected' && r.reason === lost));
    assert.deepEqual(rec.statements, [[0, 1, 2]], 'written once, never again');
  });

  test('calls of a later turn form a statement of their own', async () => {
    const rec = recorder();
    const batcher = new TurnBatcher<number, string>(rec.write, never, 10);
    const first = Promise.all([batcher.add(1), batcher.add(2)]);
    await new Promise((resolve) => setImmediate(resolve));
    const second = batcher.add(3);
    assert.deepEqual(await first, ['row1', 'row2']);
    assert.equal(await second, 'row3');
    assert.deepEqual(rec.statements, [[1, 2], [3]]);
  });
});
