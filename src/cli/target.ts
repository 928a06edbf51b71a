import { CORE_SETTINGS, ConfigError, readConfigFile, type ConfigInput } from '../config/config.js';

/** Where the client commands find the server, and the token they send. */
export interface ServerTarget {
  url: string;
  token: string | null;
}

/**
 * Client commands find the server as `serve` would listen: `--url`, then `TAILOR_URL`, then
 * `TAILOR_HOST`/`TAILOR_PORT`, then the config file (`--config`/`TAILOR_CONFIG`), then the
 * defaults. The token comes from `--token`, `TAILOR_TOKEN`, then the config file.
 */
export function resolveServerTarget(
  flags: { url?: string | undefined; token?: string | undefined; config?: string | undefined },
  env: NodeJS.ProcessEnv,
): ServerTarget {
  const file = flags.config ?? (env.TAILOR_CONFIG || undefined);
  // The client reads only the keys it needs; a server file may hold settings of any module.
  const fromFile: ConfigInput = file ? readConfigFile(file, null) : {};
  const setting = (key: 'host' | 'port' | 'token'): string | undefined => {
    const spec = CORE_SETTINGS.find((s) => s.key === key)!;
    const fromEnv = env[spec.env];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    const value = fromFile[key];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string' && typeof value !== 'number')
      throw new ConfigError(`config file ${file ?? ''}: ${key} must be a string or a number`);
    return String(value);
  };
  const token = flags.token || setting('token') || null;
  const explicit = flags.url || env.TAILOR_URL;
  if (explicit) return { url: explicit.replace(/\/+$/, ''), token };
  return { url: urlOf(setting('host') ?? '127.0.0.1', setting('port') ?? '50052'), token };
}

/** A server bound to every interface is reached on loopback; IPv6 literals need brackets. */
function urlOf(host: string, port: string): string {
  const bare = host.replace(/^\[|\]$/g, '');
  const reachable = bare === '0.0.0.0' ? '127.0.0.1' : bare === '::' ? '::1' : bare;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}
