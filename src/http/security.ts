import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ErrorCode } from '../domain/errors.js';
import { errorBody } from './errors.js';

export interface SecurityOptions {
  token: string | null;
  allowedOrigins: readonly string[];
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Constant-time check of `Authorization: Bearer <token>` (or `?token=` for browser sockets). */
export function hasValidToken(request: FastifyRequest, token: string | null): boolean {
  if (!token) return true;
  const header = request.headers.authorization;
  let offered: string | undefined;
  if (typeof header === 'string' && header.startsWith('Bearer ')) offered = header.slice(7).trim();
  if (offered === undefined && request.url.startsWith('/ws')) {
    // Browsers cannot set headers on a WebSocket; the console passes the token in the query.
    offered = new URL(request.url, 'http://x').searchParams.get('token') ?? undefined;
  }
  return offered !== undefined && timingSafeEqual(digest(offered), digest(token));
}

/**
 * An Origin is acceptable when it is the server itself (same host:port as the request) or on
 * the allow-list. Requests without Origin come from non-browser clients (CLI, curl) and pass.
 */
export function isAllowedOrigin(request: FastifyRequest, allowed: readonly string[]): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

export function installSecurity(app: FastifyInstance, options: SecurityOptions): void {
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (origin !== undefined && options.allowedOrigins.includes(origin)) {
      // CORS only for listed origins; never `*`.
      void reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
      if (request.method === 'OPTIONS') {
        return reply
          .header('access-control-allow-methods', 'GET, POST, PUT, DELETE')
          .header('access-control-allow-headers', 'authorization, content-type')
          .header('access-control-max-age', '600')
          .status(204)
          .send();
      }
    }
    if (request.url === '/health' || request.url.startsWith('/health?')) return;
    if (isConsoleAsset(request)) return;
    if (!hasValidToken(request, options.token)) {
      return reply
        .status(401)
        .header('www-authenticate', 'Bearer')
        .send(errorBody(ErrorCode.UNAUTHORIZED, 'missing or invalid bearer token'));
    }
  });
}

/** The console's static shell holds no data; it asks for the token and sends it with each call. */
function isConsoleAsset(request: FastifyRequest): boolean {
  if (request.method !== 'GET') return false;
  const path = request.url.split('?')[0] ?? '';
  return path === '/' || path.startsWith('/assets/') || path === '/favicon.svg';
}
