import { useEffect, useState } from 'react';
import type { TaskTypeInfo } from '../../../src/client/index.js';
import { useSession } from '../session/Session.js';

/** `/api/task-types`, fetched once per client (the list changes only with a server restart). */
const cache = new WeakMap<object, Promise<TaskTypeInfo[]>>();

export function useTaskTypes(): TaskTypeInfo[] {
  const { client } = useSession();
  const [types, setTypes] = useState<TaskTypeInfo[]>([]);
  useEffect(() => {
    let live = true;
    let pending = cache.get(client);
    if (!pending) {
      pending = client.getTaskTypes().then(({ types }) => types);
      cache.set(client, pending);
      // A failure (e.g. 401 before sign-in) must not stick.
      pending.catch(() => cache.delete(client));
    }
    pending.then(
      (list) => live && setTypes(list),
      () => live && setTypes([]),
    );
    return () => {
      live = false;
    };
  }, [client]);
  return types;
}
