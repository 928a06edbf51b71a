import { useCallback, useEffect, useRef, useState } from 'react';
import type { ServerMessage, TailorClient, Task } from '../../../src/client/index.js';
import { useFeedMessages, useFeedState } from '../feed/useLiveFeed.js';
import { describeError } from './errors.js';
import { applyFeedMessage, mergeTask, type ListQuery, type TaskPage } from './liveRows.js';

const RELOAD_DEBOUNCE_MS = 300;

/**
 * One server-side page of tasks, kept current by the feed. The page is reloaded when the query
 * changes and after every (re)connection of the socket, since events sent while it was down are
 * lost. Events that arrive while a load is in flight are replayed onto its answer, so a reply
 * read just before a transition cannot hide the transition.
 */
export function useTaskPage(client: TailorClient) {
  const [query, setQuery] = useState<ListQuery>({ page: 1, pageSize: 20 });
  const [page, setPageState] = useState<TaskPage>({ tasks: [], total: 0 });
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const { connection } = useFeedState();

  const pageRef = useRef(page);
  const queryRef = useRef(query);
  queryRef.current = query;
  const inFlight = useRef<{ seq: number; missed: ServerMessage[] } | null>(null);
  const loadSeq = useRef(0);
  const reloadTimer = useRef<ReturnType<typeof setTimeout> | null>(null);

  const setPage = useCallback((next: TaskPage) => {
    pageRef.current = next;
    setPageState(next);
  }, []);

  const load = useCallback(async () => {
    const seq = ++loadSeq.current;
    const q = queryRef.current;
    inFlight.current = { seq, missed: [] };
    setLoading(true);
    try {
      const data = await client.getTasks({
        page: q.page,
        page_size: q.pageSize,
        status: q.status,
        type: q.type,
      });
      if (seq !== loadSeq.current) return;
      let next: TaskPage = { tasks: data.tasks, total: data.pagination.total };
      for (const message of inFlight.current?.missed ?? [])
        next = applyFeedMessage(next, q, message).page;
      setPage(next);
      setError(null);
    } catch (err) {
      if (seq === loadSeq.current) setError(describeError(err));
    } finally {
      if (seq === loadSeq.current) {
        inFlight.current = null;
        setLoading(false);
      }
    }
  }, [client, setPage]);

  const scheduleReload = useCallback(() => {
    if (reloadTimer.current) return;
    reloadTimer.current = setTimeout(() => {
      reloadTimer.current = null;
      void load();
    }, RELOAD_DEBOUNCE_MS);
  }, [load]);

  useEffect(
    () => () => {
      if (reloadTimer.current) clearTimeout(reloadTimer.current);
    },
    [],
  );

  useEffect(() => {
    void load();
  }, [load, query, connection]);

  const merge = useCallback((task: Task) => setPage(mergeTask(pageRef.current, task)), [setPage]);

  /** Drop a row at once after our own delete; its task_deleted event then changes nothing. */
  const remove = useCallback(
    (taskId: string) => {
      const effect = applyFeedMessage(pageRef.current, queryRef.current, {
        type: 'task_deleted',
        task_id: taskId,
      });
      setPage(effect.page);
      if (effect.reload) scheduleReload();
    },
    [setPage, scheduleReload],
  );

  useFeedMessages((message) => {
    inFlight.current?.missed.push(message);
    const effect = applyFeedMessage(pageRef.current, queryRef.current, message);
    if (effect.page !== pageRef.current) setPage(effect.page);
    if (effect.reload) scheduleReload();
    if (effect.refetch) {
      client.getTask(effect.refetch).then(merge, () => {
        // Deleted meanwhile: its task_deleted event removes the row.
      });
    }
  });

  return { query, setQuery, page, loading, error, reload: load, merge, remove };
}
