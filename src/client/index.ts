/**
 * Typed client for the task manager's JSON API and WebSocket feed. Browser-safe (only `fetch`
 * and a WebSocket constructor), so the CLI, the tests and the web console share it.
 */
import type { Task, TaskLog, TaskStatus, TerminalStatus } from '../domain/task.js';
import type { ClientMessage, ServerMessage } from '../ws/messages.js';

export type { Task, TaskLog, TaskStatus, TerminalStatus, ServerMessage, ClientMessage };

export interface Envelope<T> {
  status: { code: number; message: string; details?: unknown };
  data?: T;
}

/** A non-zero envelope code, with the HTTP status it came with. */
export class TailorApiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'TailorApiError';
  }
}

/** The server could not be reached at all (nothing listening, DNS, TLS…): no envelope came back. */
export class TailorUnreachableError extends Error {
  constructor(
    readonly url: string,
    /** The system's reason, e.g. `ECONNREFUSED`. */
    readonly reason: string,
  ) {
    super(`cannot reach ${url} (${reason})`);
    this.name = 'TailorUnreachableError';
  }
}

/**
 * The most specific reason a request never got a response: fetch only says "fetch failed" and
 * keeps the system error (ECONNREFUSED, ENOTFOUND…) in its cause, an AggregateError's first error
 * when several addresses were tried.
 */
export function unreachableReason(error: unknown): string {
  let current: unknown = error;
  // Without a code, the innermost message ("bad port") says more than "fetch failed".
  let innermost = error instanceof Error ? error.message : String(error);
  for (let depth = 0; depth < 5 && current; depth++) {
    const e = current as { code?: unknown; errors?: unknown; cause?: unknown; message?: unknown };
    if (typeof e.code === 'string' && !e.code.startsWith('UND_ERR_SOCKET')) return e.code;
    if (typeof e.message === 'string' && e.message) innermost = e.message;
    if (Array.isArray(e.errors) && e.errors.length) current = e.errors[0];
    else current = e.cause;
  }
  return innermost;
}

export interface StatusInfo {
  task_id: string;
  status: TaskStatus;
  progress: number;
  message: string;
  error_message: string | null;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
}

export interface ListOptions {
  page?: number;
  page_size?: number;
  status?: TaskStatus;
  type?: string;
}

export interface CreateOptions {
  priority?: number;
  max_attempts?: number;
}

/** Minimal shape of a WebSocket (browser's or the `ws` package's). */
export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'open' | 'close' | 'error', listener: (event: unknown) => void): void;
}
export type SocketFactory = new (
  url: string,
  options?: { headers?: Record<string, string> },
) => SocketLike;

/** One image of `GET /api/gallery`. */
export interface GalleryImage {
  task_id: string;
  task_type: string;
  /** Relative to the task's output folder, '/'-separated. */
  file: string;
  /** Where `GET /api/files` serves it (relative to the server). */
  url: string;
  size: number;
  modified_at: string;
  /** The image's JSON sidecar, as the executor wrote it, or null. */
  sidecar: Record<string, unknown> | null;
}

export interface GalleryQuery {
  type?: string;
  task_id?: string;
  page?: number;
  page_size?: number;
}

/** One entry of `/api/task-types`. */
export interface TaskTypeInfo {
  type: string;
  runnable: boolean;
  description: string;
  /** JSON Schema of the task config. */
  schema: Record<string, unknown>;
  settings: {
    key: string;
    env: string;
    description: string;
    secret: boolean;
    set: boolean;
    value: string | null;
  }[];
}

export interface ClientOptions {
  baseUrl: string;
  token?: string | null | undefined;
  /** Defaults to the global WebSocket (browsers, Node 22+); pass `ws` on Node 20. */
  WebSocket?: SocketFactory | undefined;
  fetch?: typeof fetch;
}

export class TailorClient {
  readonly baseUrl: string;
  private readonly token: string | null;
  private readonly socketFactory: SocketFactory | undefined;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token ?? null;
    this.socketFactory =
      options.WebSocket ?? (globalThis as { WebSocket?: SocketFactory }).WebSocket;
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** POST a JSON body, unwrap the envelope, throw TailorApiError on a non-zero code. */
  async call<T>(
    path: string,
    body: unknown = {},
    method: 'POST' | 'GET' | 'PUT' | 'DELETE' = 'POST',
  ): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (method === 'POST' || method === 'PUT') headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await this.fetchImpl(this.baseUrl + path, {
        method,
        headers,
        body: method === 'POST' || method === 'PUT' ? JSON.stringify(body) : undefined,
      });
    } catch (error) {
      throw new TailorUnreachableError(this.baseUrl, unreachableReason(error));
    }
    const text = await response.text();
    let envelope: Envelope<T>;
    try {
      envelope = JSON.parse(text) as Envelope<T>;
    } catch {
      throw new TailorApiError(
        response.status,
        response.status * 100,
        `unexpected response: ${text.slice(0, 200)}`,
      );
    }
    if (!envelope.status || envelope.status.code !== 0) {
      const status = envelope.status ?? {
        code: response.status * 100,
        message: response.statusText,
      };
      throw new TailorApiError(response.status, status.code, status.message, status.details);
    }
    return envelope.data as T;
  }

  getTasks(
    options: ListOptions = {},
  ): Promise<{ tasks: Task[]; pagination: { page: number; page_size: number; total: number } }> {
    return this.call('/api/tasks', {
      pagination: { page: options.page ?? 1, page_size: options.page_size ?? 20 },
      ...(options.status ? { status: options.status } : {}),
      ...(options.type ? { type: options.type } : {}),
    });
  }

  getTask(taskId: string): Promise<Task> {
    return this.call('/api/task/get', { task_id: taskId });
  }

  getStatus(taskId: string): Promise<StatusInfo> {
    return this.call('/api/status', { task_id: taskId });
  }

  createTask(
    type: string,
    config: Record<string, unknown>,
    options: CreateOptions = {},
  ): Promise<Task> {
    return this.call('/api/task/create', { type, config, ...options });
  }

  startTask(taskId: string): Promise<Task> {
    return this.call('/api/task/start', { task_id: taskId });
  }

  stopTask(taskId: string): Promise<Task> {
    return this.call('/api/task/stop', { task_id: taskId });
  }

  cancelTask(taskId: string): Promise<Task> {
    return this.call('/api/cancel', { task_id: taskId });
  }

  deleteTask(
    taskId: string,
    options: { deleteFiles?: boolean } = {},
  ): Promise<{ task_id: string }> {
    return this.call('/api/delete', {
      task_id: taskId,
      ...(options.deleteFiles ? { delete_files: true } : {}),
    });
  }

  cleanup(
    cleanupType: TerminalStatus | 'all',
  ): Promise<{ cleaned_count: number; cleanup_type: string }> {
    return this.call('/api/task/cleanup', { cleanup_type: cleanupType });
  }

  getLogs(
    taskId: string,
    options: { after_seq?: number; limit?: number } = {},
  ): Promise<{ logs: TaskLog[] }> {
    return this.call('/api/task/logs', { task_id: taskId, ...options });
  }

  getGallery(query: GalleryQuery = {}): Promise<{
    images: GalleryImage[];
    pagination: { page: number; page_size: number; total: number };
  }> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query))
      if (value !== undefined && value !== '') params.set(key, String(value));
    const search = params.toString();
    return this.call(`/api/gallery${search ? `?${search}` : ''}`, undefined, 'GET');
  }

  getTaskTypes(): Promise<{ types: TaskTypeInfo[] }> {
    return this.call('/api/task-types', undefined, 'GET');
  }

  /** Open `/ws`; resolves once connected. */
  async connect(): Promise<TaskFeed> {
    if (!this.socketFactory)
      throw new Error('no WebSocket implementation: pass one in ClientOptions.WebSocket');
    const url = new URL(this.baseUrl.replace(/^http/, 'ws') + '/ws');
    const headers: Record<string, string> = {};
    if (this.token) {
      headers.authorization = `Bearer ${this.token}`;
      // Browsers cannot send headers on a WebSocket: the token also travels in the query.
      url.searchParams.set('token', this.token);
    }
    // A browser's WebSocket takes subprotocols as its second argument and cannot send headers;
    // there the token travels in the query only.
    const inBrowser = typeof (globalThis as { document?: unknown }).document !== 'undefined';
    const socket = inBrowser
      ? new this.socketFactory(url.toString())
      : new this.socketFactory(url.toString(), { headers });
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve());
      socket.addEventListener('error', (event) => {
        // `ws` hands over the system error (ECONNREFUSED…) when nothing answered; an HTTP refusal
        // (401) has no code, and a browser gives no reason at all.
        const cause = (event as { error?: unknown }).error;
        const reached = typeof (cause as { code?: unknown } | undefined)?.code !== 'string';
        reject(
          !reached
            ? new TailorUnreachableError(this.baseUrl, unreachableReason(cause))
            : new Error(
                `websocket error: ${String((event as { message?: string }).message ?? 'connection failed')}`,
              ),
        );
      });
      socket.addEventListener('close', () =>
        reject(new Error('websocket closed before it opened')),
      );
    });
    return new TaskFeed(socket);
  }
}

/** One WebSocket connection: subscribe and receive typed messages. */
export class TaskFeed {
  private readonly listeners = new Set<(message: ServerMessage) => void>();
  private closed = false;
  private readonly closeListeners = new Set<() => void>();

  constructor(private readonly socket: SocketLike) {
    socket.addEventListener('message', (event) => {
      let message: ServerMessage;
      try {
        message = JSON.parse(String(event.data)) as ServerMessage;
      } catch {
        return;
      }
      for (const listener of this.listeners) listener(message);
    });
    socket.addEventListener('close', () => {
      this.closed = true;
      for (const listener of this.closeListeners) listener();
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  onMessage(listener: (message: ServerMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onClose(listener: () => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  send(message: ClientMessage): void {
    this.socket.send(JSON.stringify(message));
  }

  subscribeTask(taskId: string): void {
    this.send({ type: 'subscribe_task', task_id: taskId });
  }

  unsubscribeTask(taskId: string): void {
    this.send({ type: 'unsubscribe_task', task_id: taskId });
  }

  subscribeAll(): void {
    this.send({ type: 'subscribe_all' });
  }

  /** Resolves with the first message matching `predicate`, or rejects after `timeoutMs`. */
  waitFor<M extends ServerMessage>(
    predicate: (message: ServerMessage) => message is M,
    timeoutMs?: number,
  ): Promise<M>;
  waitFor(
    predicate: (message: ServerMessage) => boolean,
    timeoutMs?: number,
  ): Promise<ServerMessage>;
  waitFor(
    predicate: (message: ServerMessage) => boolean,
    timeoutMs = 30_000,
  ): Promise<ServerMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no matching websocket message within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.onMessage((message) => {
        if (!predicate(message)) return;
        clearTimeout(timer);
        off();
        resolve(message);
      });
    });
  }

  close(): void {
    this.socket.close();
  }
}
