/**
 * How one page of the task list follows the WebSocket feed. Pure, so it is tested without a
 * browser (test/web/liveRows.test.ts).
 *
 * - `task_status` updates a row in view when its `version` is newer than the row's; a changed
 *   status also asks for the whole task (started/completed times, result are not in the event).
 * - `task_created` is prepended on page 1 when it matches the filters.
 * - `task_deleted` removes the row.
 * Whatever the page cannot work out by itself (a task entering or leaving a status filter, a
 * gap left by a deletion) asks for a reload, which the view debounces.
 */
import type { ServerMessage, Task, TaskStatus } from '../../../src/client/index.js';

export interface ListQuery {
  page: number;
  pageSize: number;
  status?: TaskStatus | undefined;
  type?: string | undefined;
}

export interface TaskPage {
  tasks: Task[];
  total: number;
}

export interface FeedEffect {
  page: TaskPage;
  /** Fetch this task whole and merge it (see mergeTask). */
  refetch?: string;
  /** The page can no longer be kept right from events alone. */
  reload?: boolean;
}

export function matchesQuery(
  query: ListQuery,
  task: { status: TaskStatus; type: string },
): boolean {
  return (
    (!query.status || task.status === query.status) && (!query.type || task.type === query.type)
  );
}

export function applyFeedMessage(
  page: TaskPage,
  query: ListQuery,
  message: ServerMessage,
): FeedEffect {
  switch (message.type) {
    case 'task_status': {
      const index = page.tasks.findIndex((task) => task.id === message.task_id);
      const entersFilter = matchesQuery(query, { status: message.status, type: message.task_type });
      if (index < 0) return entersFilter && query.status ? { page, reload: true } : { page };
      const row = page.tasks[index]!;
      if (message.version <= row.version) return { page };
      const updated: Task = {
        ...row,
        status: message.status,
        progress: message.progress,
        message: message.message,
        error_message: message.error_message,
        version: message.version,
        updated_at: message.updated_at,
      };
      const tasks = page.tasks.slice();
      tasks[index] = updated;
      const effect: FeedEffect = { page: { ...page, tasks } };
      if (row.status !== message.status) effect.refetch = message.task_id;
      if (!entersFilter) effect.reload = true;
      return effect;
    }
    case 'task_created': {
      const { task } = message;
      if (!matchesQuery(query, task) || page.tasks.some((row) => row.id === task.id))
        return { page };
      if (query.page !== 1) return { page: { ...page, total: page.total + 1 } };
      return {
        page: { tasks: [task, ...page.tasks].slice(0, query.pageSize), total: page.total + 1 },
      };
    }
    case 'task_deleted': {
      const tasks = page.tasks.filter((task) => task.id !== message.task_id);
      if (tasks.length === page.tasks.length) return { page };
      const next = { tasks, total: Math.max(0, page.total - 1) };
      // A full page leaves a gap that the next page's first row should fill.
      return page.tasks.length === query.pageSize ? { page: next, reload: true } : { page: next };
    }
    default:
      return { page };
  }
}

/** Replace the row of `task` when `task` is at least as new (an action's answer, a refetch). */
export function mergeTask(page: TaskPage, task: Task): TaskPage {
  const index = page.tasks.findIndex((row) => row.id === task.id);
  if (index < 0 || page.tasks[index]!.version > task.version) return page;
  const tasks = page.tasks.slice();
  tasks[index] = task;
  return { ...page, tasks };
}
