import type { SocketFactory } from '../../../src/client/index.js';

/**
 * The client constructs its socket as `new WebSocket(url, { headers })`, which suits the `ws`
 * package; a browser's second argument is the subprotocol list and would reject that object.
 * Browsers cannot send headers on a socket anyway — the client also puts the token in `?token=`.
 */
class BrowserSocket extends WebSocket {
  constructor(url: string) {
    super(url);
  }
}

export const browserSocket = BrowserSocket as unknown as SocketFactory;
