import { Agent, ProxyAgent, fetch as undiciFetch, type Dispatcher } from 'undici';
import type { HttpClient, HttpRequestInit } from '../scheduler/executor.js';

export interface HttpClientOptions {
  /** `http://user:pass@host:port`; every executor request goes through it. */
  proxy?: string | undefined;
  connectTimeoutMs?: number;
  /** Default time to wait for response headers, per request. */
  timeoutMs?: number;
}

/**
 * One pooled undici dispatcher shared by every executor: keep-alive connections to the WebUI and
 * Pixiv, the configured proxy, and a default timeout a request can override.
 */
export function createHttpClient(
  options: HttpClientOptions = {},
): HttpClient & { close(): Promise<void> } {
  const connectTimeout = options.connectTimeoutMs ?? 10_000;
  const defaultTimeout = options.timeoutMs ?? 60_000;
  const dispatcher: Dispatcher = options.proxy
    ? new ProxyAgent({
        uri: options.proxy,
        connect: { timeout: connectTimeout },
        headersTimeout: 0,
        bodyTimeout: 0,
      })
    : new Agent({ connect: { timeout: connectTimeout }, headersTimeout: 0, bodyTimeout: 0 });

  return {
    async fetch(url: string | URL, init: HttpRequestInit = {}): Promise<Response> {
      const timeoutMs = init.timeoutMs ?? defaultTimeout;
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
      const response = await undiciFetch(url, {
        method: init.method ?? 'GET',
        headers: init.headers,
        body: init.body,
        signal,
        dispatcher,
      });
      return response as unknown as Response;
    },
    close: () => dispatcher.close(),
  };
}
