import assert from 'node:assert/strict';
import WebSocket from 'ws';

/** How many cases each property runs; CI raises it with FUZZ_RUNS. */
export const FUZZ_RUNS = Math.max(1, Number(process.env.FUZZ_RUNS ?? 300));

export interface RawResponse {
  status: number;
  text: string;
  json: unknown;
  headers: Headers;
}

export async function request(
  url: string,
  init: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: init.headers ?? {},
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  const text = await response.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json, headers: response.headers };
}

export const jsonHeaders = (token?: string): Record<string, string> => ({
  'content-type': 'application/json',
  ...(token ? { authorization: `Bearer ${token}` } : {}),
});

/**
 * The response is the API envelope: code 0 with data for a success, otherwise a non-zero code
 * whose first three digits are the HTTP status and a non-empty message.
 */
export function assertEnvelope(response: RawResponse, what: string): void {
  const body = response.json as { status?: { code?: unknown; message?: unknown }; data?: unknown };
  assert.ok(
    body !== null && typeof body === 'object' && typeof body.status === 'object' && body.status,
    `${what}: not an envelope (HTTP ${response.status}): ${response.text.slice(0, 300)}`,
  );
  const { code, message } = body.status;
  assert.equal(typeof code, 'number', `${what}: status.code`);
  assert.equal(typeof message, 'string', `${what}: status.message`);
  if (response.status >= 200 && response.status < 300) {
    assert.equal(code, 0, `${what}: success code`);
    assert.ok('data' in body, `${what}: success without data`);
  } else {
    assert.notEqual(code, 0, `${what}: error with code 0`);
    assert.equal(
      Math.floor((code as number) / 100),
      response.status,
      `${what}: code ${String(code)} vs HTTP ${response.status}`,
    );
    assert.ok((message as string).length > 0, `${what}: empty error message`);
  }
}

export const wsUrl = (httpUrl: string, path = '/ws'): string =>
  httpUrl.replace(/^http/, 'ws') + path;

/** Open a socket, or reject with `HTTP <status>` when the upgrade is refused. */
export function openSocket(
  url: string,
  headers: Record<string, string> = {},
  maxPayload?: number,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, ...(maxPayload ? { maxPayload } : {}) });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (req, res) => {
      req.destroy();
      reject(new Error(`HTTP ${res.statusCode}`));
    });
    ws.once('error', reject);
  });
}

/** Outcome of an upgrade attempt: 101 when it opened, else the HTTP status (or -1). */
export async function upgradeStatus(
  url: string,
  headers: Record<string, string> = {},
): Promise<number> {
  try {
    const ws = await openSocket(url, headers);
    ws.close();
    return 101;
  } catch (error) {
    const match = /HTTP (\d+)/.exec((error as Error).message);
    return match ? Number(match[1]) : -1;
  }
}

export function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    if (ws.readyState === ws.CLOSED) return resolve({ code: -1, reason: 'already closed' });
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
}

/** Every text message a socket receives, parsed (a non-JSON frame is kept as a string). */
export function collect(ws: WebSocket): unknown[] {
  const messages: unknown[] = [];
  ws.on('message', (data) => {
    const text = (data as Buffer).toString();
    try {
      messages.push(JSON.parse(text));
    } catch {
      messages.push(text);
    }
  });
  return messages;
}

/** Send a ping and resolve once its pong arrives: everything sent before has been handled. */
export function roundTrip(ws: WebSocket, messages: unknown[]): Promise<void> {
  const before = messages.filter((m) => (m as { type?: string }).type === 'pong').length;
  ws.send(JSON.stringify({ type: 'ping' }));
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (messages.filter((m) => (m as { type?: string }).type === 'pong').length > before)
        return done(resolve);
      if (ws.readyState !== ws.OPEN)
        return done(() => reject(new Error('socket closed before pong')));
    };
    const done = (fn: () => void): void => {
      ws.off('message', onMessage);
      ws.off('close', check);
      fn();
    };
    const onMessage = (): void => void setImmediate(check);
    ws.on('message', onMessage);
    ws.on('close', check);
  });
}
