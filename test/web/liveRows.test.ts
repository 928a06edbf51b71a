import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ServerMessage, Task } from '../../src/client/index.js';
import {
  applyFeedMessage,
  mergeTask,
  type ListQuery,
  type TaskPage,
} from '../../web/src/tasks/liveRows.js';
import { MAX_LOG_LINES, mergeLogs } from '../../web/src/tasks/logs.js';

function task(id: string, fields: Partial<Task> = {}): Task {
  return {
    id,
    type: 'alpha',
    status: 'pending',
    progress: 0,
    message: '',
    config: {},
    result: null,
    error_message: null,
    priority: 0,
    attempts: 0,
    max_attempts: 2,
    owner: null,
    version: 1,
    created_at: '2025-01-01T00:00:00.000Z',
    started_at: null,
    completed_at: null,
    updated_at: '2025-01-01T00:00:00.000Z',
    ...fields,
  };
}

function status(
  id: string,
  version: number,
  fields: Partial<Extract<ServerMessage, { type: 'task_status' }>> = {},
): ServerMessage {
  return {
    type: 'task_status',
    task_id: id,
    task_type: 'alpha',
    status: 'running',
    progress: 10,
    message: 'working',
    error_message: null,
    version,
    updated_at: '2025-01-01T00:00:01.000Z',
    ...fields,
  };
}

const firstPage: ListQuery = { page: 1, pageSize: 3 };
const pageOf = (...tasks: Task[]): TaskPage => ({ tasks, total: tasks.length });

describe('the task list follows the feed', () => {
  test('a newer task_status updates its row and asks for the whole task when the status changed', () => {
    const effect = applyFeedMessage(pageOf(task('a')), firstPage, status('a', 2));
    assert.equal(effect.page.tasks[0]!.status, 'running');
    assert.equal(effect.page.tasks[0]!.progress, 10);
    assert.equal(effect.refetch, 'a');
    assert.equal(effect.reload, undefined);
  });

  test('a task_status no newer than the row is ignored', () => {
    const page = pageOf(task('a', { version: 5, status: 'completed', progress: 100 }));
    const effect = applyFeedMessage(page, firstPage, status('a', 4));
    assert.equal(effect.page, page);
    assert.equal(effect.refetch, undefined);
  });

  test('progress within one status updates the row without a refetch', () => {
    const effect = applyFeedMessage(
      pageOf(task('a', { status: 'running', version: 2 })),
      firstPage,
      status('a', 3, { progress: 40 }),
    );
    assert.equal(effect.page.tasks[0]!.progress, 40);
    assert.equal(effect.refetch, undefined);
  });

  test('a created task is prepended on page 1 and the page keeps its size', () => {
    const page = pageOf(task('c'), task('b'), task('a'));
    const effect = applyFeedMessage(page, firstPage, { type: 'task_created', task: task('d') });
    assert.deepEqual(
      effect.page.tasks.map((t) => t.id),
      ['d', 'c', 'b'],
    );
    assert.equal(effect.page.total, 4);
  });

  test('a created task is not prepended on a later page or when the filters exclude it', () => {
    const page = pageOf(task('a'));
    const later = applyFeedMessage(
      page,
      { ...firstPage, page: 2 },
      { type: 'task_created', task: task('d') },
    );
    assert.deepEqual(
      later.page.tasks.map((t) => t.id),
      ['a'],
    );
    assert.equal(later.page.total, 2);
    const otherType = applyFeedMessage(
      page,
      { ...firstPage, type: 'beta' },
      { type: 'task_created', task: task('d') },
    );
    assert.equal(otherType.page, page);
  });

  test('a deleted task leaves the page; a gap in a full page asks for a reload', () => {
    const partial = applyFeedMessage(pageOf(task('b'), task('a')), firstPage, {
      type: 'task_deleted',
      task_id: 'a',
    });
    assert.deepEqual(
      partial.page.tasks.map((t) => t.id),
      ['b'],
    );
    assert.equal(partial.reload, undefined);
    const full = applyFeedMessage(pageOf(task('c'), task('b'), task('a')), firstPage, {
      type: 'task_deleted',
      task_id: 'b',
    });
    assert.deepEqual(
      full.page.tasks.map((t) => t.id),
      ['c', 'a'],
    );
    assert.equal(full.reload, true);
  });

  test('with a status filter, a task entering or leaving that status asks for a reload', () => {
    const running: ListQuery = { ...firstPage, status: 'running' };
    const entering = applyFeedMessage(pageOf(), running, status('x', 2));
    assert.equal(entering.reload, true);
    const leaving = applyFeedMessage(
      pageOf(task('a', { status: 'running', version: 2 })),
      running,
      status('a', 3, { status: 'completed' }),
    );
    assert.equal(leaving.reload, true);
  });

  test("an action's answer replaces the row unless the row is already newer", () => {
    const page = pageOf(task('a', { version: 3, status: 'running' }));
    assert.equal(mergeTask(page, task('a', { version: 2, status: 'pending' })), page);
    assert.equal(
      mergeTask(page, task('a', { version: 4, status: 'cancelled' })).tasks[0]!.status,
      'cancelled',
    );
  });
});

describe('drawer logs', () => {
  const line = (seq: number) => ({
    task_id: 'a',
    seq,
    time: '2025-01-01T00:00:00.000Z',
    level: 'info' as const,
    message: `line ${seq}`,
  });

  test('fetched and streamed lines merge by seq, without duplicates, in order', () => {
    const streamed = mergeLogs([], [line(4), line(5)]);
    const merged = mergeLogs(streamed, [line(1), line(2), line(3), line(4)]);
    assert.deepEqual(
      merged.map((l) => l.seq),
      [1, 2, 3, 4, 5],
    );
  });

  test('only the newest lines are kept past the limit', () => {
    const many = Array.from({ length: MAX_LOG_LINES + 10 }, (_, i) => line(i + 1));
    const kept = mergeLogs([], many);
    assert.equal(kept.length, MAX_LOG_LINES);
    assert.equal(kept[0]!.seq, 11);
  });
});
