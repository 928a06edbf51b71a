import { redactTask } from '../domain/redact.js';
import type { Task, TaskLog } from '../domain/task.js';

/** Server → client messages; the protocol is described in the README ("WebSocket"). */
export type ServerMessage =
  | {
      type: 'task_status';
      task_id: string;
      task_type: string;
      status: Task['status'];
      progress: number;
      message: string;
      error_message: string | null;
      version: number;
      updated_at: string;
    }
  | ({ type: 'task_log' } & TaskLog)
  | { type: 'task_created'; task: Task }
  | { type: 'task_deleted'; task_id: string }
  | { type: 'pong' }
  | { type: 'error'; message: string };

/** Client → server messages. */
export type ClientMessage =
  | { type: 'subscribe_task'; task_id: string }
  | { type: 'unsubscribe_task'; task_id: string }
  | { type: 'subscribe_all' }
  | { type: 'unsubscribe_all' }
  | { type: 'ping' };

export function statusMessage(task: Task): Extract<ServerMessage, { type: 'task_status' }> {
  return {
    type: 'task_status',
    task_id: task.id,
    task_type: task.type,
    status: task.status,
    progress: task.progress,
    message: task.message,
    error_message: task.error_message,
    version: task.version,
    updated_at: task.updated_at,
  };
}

export const createdMessage = (task: Task): ServerMessage => ({
  type: 'task_created',
  task: redactTask(task),
});

/** Parse and check one client message; a string return is the error to send back. */
export function parseClientMessage(raw: string): ClientMessage | string {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return 'message is not valid JSON';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return 'message must be a JSON object';
  const message = value as Record<string, unknown>;
  switch (message.type) {
    case 'subscribe_task':
    case 'unsubscribe_task':
      if (typeof message.task_id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(message.task_id)) {
        return `${message.type} needs task_id: a task id string`;
      }
      return { type: message.type, task_id: message.task_id };
    case 'subscribe_all':
    case 'unsubscribe_all':
    case 'ping':
      return { type: message.type };
    default:
      return `unknown message type ${describeType(message.type)}; expected subscribe_task, unsubscribe_task, subscribe_all, unsubscribe_all or ping`;
  }
}

/**
 * The offending type, short: echoing it whole would send back up to a 64 KiB string, and
 * JSON.stringify of a value nested thousands deep overflows the stack.
 */
function describeType(type: unknown): string {
  if (typeof type !== 'string')
    return type === null ? 'null' : `of JSON type ${Array.isArray(type) ? 'array' : typeof type}`;
  return JSON.stringify(type.length > 64 ? `${type.slice(0, 64)}…` : type);
}
