import type { Task, TaskLog } from '../domain/task.js';

/**
 * What the scheduler announces after each committed change. The WebSocket hub, metrics and the
 * cluster bridge listen here; events for one task are published in commit order.
 */
export type TaskEvent =
  | { kind: 'created'; task: Task }
  | { kind: 'status'; task: Task }
  | { kind: 'log'; log: TaskLog }
  | { kind: 'deleted'; taskId: string; type: string };

export type TaskEventListener = (event: TaskEvent) => void;

export class TaskEvents {
  private readonly listeners = new Set<TaskEventListener>();

  subscribe(listener: TaskEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A throwing listener is isolated: it must never break a transition or other listeners. */
  publish(event: TaskEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // Listeners own their failures; the scheduler's state is already committed.
      }
    }
  }
}
