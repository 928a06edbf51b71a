import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  TaskFeed,
  type ServerMessage,
  type SocketLike,
  type TailorClient,
} from '../../src/client/index.js';
import { LiveFeed } from '../../web/src/feed/LiveFeed.js';
import { eventually } from '../helpers/server.js';

/** A socket the test drives by hand. */
class FakeSocket implements SocketLike {
  readyState = 1;
  sent: string[] = [];
  private listeners = new Map<string, ((event: { data: unknown }) => void)[]>();
  send(data: string): void {
    this.sent.push(data);
  }
  close(): void {
    this.readyState = 3;
    for (const listener of this.listeners.get('close') ?? []) listener({ data: undefined });
  }
  addEventListener(type: string, listener: (event: { data: unknown }) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  receive(message: ServerMessage): void {
    for (const listener of this.listeners.get('message') ?? [])
      listener({ data: JSON.stringify(message) });
  }
}

test('the live feed retries a failed connection with backoff, subscribes to all tasks, and reconnects after a drop', async () => {
  const sockets: FakeSocket[] = [];
  let attempts = 0;
  const client = {
    async connect() {
      attempts++;
      if (attempts <= 2) throw new Error('connection refused');
      const socket = new FakeSocket();
      sockets.push(socket);
      return new TaskFeed(socket);
    },
  } as unknown as TailorClient;

  const feed = new LiveFeed(client, { initialMs: 1, maxMs: 5 });
  const states: string[] = [];
  feed.subscribeState(() => states.push(feed.getSnapshot().state));
  const received: ServerMessage[] = [];
  feed.onMessage((message) => received.push(message));
  feed.start();
  try {
    await eventually(() => feed.getSnapshot().state === 'open', 2_000, 'the first connection');
    assert.equal(attempts, 3);
    assert.deepEqual(states, ['reconnecting', 'reconnecting', 'open']);
    assert.deepEqual(
      sockets[0]!.sent.map((text) => JSON.parse(text)),
      [{ type: 'subscribe_all' }],
    );
    assert.equal(feed.getSnapshot().connection, 1);

    sockets[0]!.receive({ type: 'task_deleted', task_id: 'a' });
    assert.deepEqual(received, [{ type: 'task_deleted', task_id: 'a' }]);

    sockets[0]!.close();
    await eventually(() => feed.getSnapshot().connection === 2, 2_000, 'the reconnection');
    assert.equal(feed.getSnapshot().state, 'open');
    assert.deepEqual(
      sockets[1]!.sent.map((text) => JSON.parse(text)),
      [{ type: 'subscribe_all' }],
    );
  } finally {
    feed.stop();
  }
});

test('a stopped live feed does not reconnect', async () => {
  let attempts = 0;
  const client = {
    async connect(): Promise<TaskFeed> {
      attempts++;
      throw new Error('connection refused');
    },
  } as unknown as TailorClient;
  const feed = new LiveFeed(client, { initialMs: 5, maxMs: 5 });
  feed.start();
  await eventually(() => attempts >= 1, 1_000, 'the first attempt');
  feed.stop();
  const seen = attempts;
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(attempts, seen, 'it kept reconnecting after stop()');
});
