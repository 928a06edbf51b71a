import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/**
 * Server configuration. Precedence: command-line flags, then environment variables, then an
 * optional JSON config file (`--config` / `TAILOR_CONFIG`), then defaults (SPEC §7).
 */
export interface TailorConfig {
  host: string;
  port: number;
  dataDir: string;
  /** A SQLite file path, or a `postgres://` URL. */
  db: string;
  token: string | null;
  sdWebuiUrl: string;
  pixivApiBase: string;
  pixivCookie: string | null;
  proxy: string | null;
  /** Stable name of this node in a cluster; recovers its own stale rows on restart. */
  nodeId: string;
  /** Task types this node runs; null = every registered executor. */
  executors: string[] | null;
  leaseMs: number;
  graceMs: number;
  pollMs: number;
  bodyLimit: number;
  /** Origins allowed for CORS and WebSocket besides the server's own. */
  allowedOrigins: string[];
  logLevel: string;
}

/** Keys a config file and flags may set (camelCase), and the env var of each. */
const ENV_NAMES: Record<keyof TailorConfig, string> = {
  host: 'TAILOR_HOST',
  port: 'TAILOR_PORT',
  dataDir: 'TAILOR_DATA_DIR',
  db: 'TAILOR_DB',
  token: 'TAILOR_TOKEN',
  sdWebuiUrl: 'SD_WEBUI_URL',
  pixivApiBase: 'PIXIV_API_BASE',
  pixivCookie: 'PIXIV_COOKIE',
  proxy: 'TAILOR_PROXY',
  nodeId: 'TAILOR_NODE_ID',
  executors: 'TAILOR_EXECUTORS',
  leaseMs: 'TAILOR_LEASE_MS',
  graceMs: 'TAILOR_GRACE_MS',
  pollMs: 'TAILOR_POLL_MS',
  bodyLimit: 'TAILOR_BODY_LIMIT',
  allowedOrigins: 'TAILOR_ALLOWED_ORIGINS',
  logLevel: 'TAILOR_LOG_LEVEL',
};

export type ConfigInput = Partial<
  Record<keyof TailorConfig, string | number | string[] | null | undefined>
>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(
  flags: ConfigInput = {},
  env: NodeJS.ProcessEnv = process.env,
  configFile?: string,
): TailorConfig {
  const file = configFile ?? env.TAILOR_CONFIG;
  const fromFile: ConfigInput = file ? readConfigFile(file) : {};
  const pick = (key: keyof TailorConfig): string | number | string[] | null | undefined => {
    if (flags[key] !== undefined) return flags[key];
    const fromEnv = env[ENV_NAMES[key]];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    return fromFile[key];
  };
  const str = (key: keyof TailorConfig, fallback: string): string => {
    const value = pick(key);
    return value === undefined || value === null ? fallback : String(value);
  };
  const optional = (key: keyof TailorConfig): string | null => {
    const value = pick(key);
    return value === undefined || value === null || value === '' ? null : String(value);
  };
  const int = (key: keyof TailorConfig, fallback: number, min: number, max: number): number => {
    const value = pick(key);
    if (value === undefined || value === null) return fallback;
    const n = typeof value === 'number' ? value : Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new ConfigError(
        `${key} (${ENV_NAMES[key]}) must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`,
      );
    }
    return n;
  };
  const list = (key: keyof TailorConfig): string[] | null => {
    const value = pick(key);
    if (value === undefined || value === null || value === '') return null;
    const items = Array.isArray(value) ? value : String(value).split(',');
    return items.map((item) => String(item).trim()).filter(Boolean);
  };

  const host = str('host', '127.0.0.1');
  const port = int('port', 50052, 0, 65535);
  const dataDir = resolve(str('dataDir', './data'));
  const dbValue = str('db', join(dataDir, 'tailor.db'));
  const db = isPostgresUrl(dbValue) ? dbValue : isAbsolute(dbValue) ? dbValue : resolve(dbValue);
  const token = optional('token');
  if (token !== null && token.length < 16) {
    throw new ConfigError('TAILOR_TOKEN must be at least 16 characters long');
  }
  const config: TailorConfig = {
    host,
    port,
    dataDir,
    db,
    token,
    sdWebuiUrl: str('sdWebuiUrl', 'http://127.0.0.1:7860').replace(/\/+$/, ''),
    pixivApiBase: str('pixivApiBase', 'https://www.pixiv.net').replace(/\/+$/, ''),
    pixivCookie: optional('pixivCookie'),
    proxy: optional('proxy'),
    nodeId: str('nodeId', `${hostname()}:${port}`),
    executors: list('executors'),
    leaseMs: int('leaseMs', 30_000, 1_000, 3_600_000),
    graceMs: int('graceMs', 10_000, 0, 600_000),
    pollMs: int('pollMs', 5_000, 100, 3_600_000),
    bodyLimit: int('bodyLimit', 1024 * 1024, 1024, 64 * 1024 * 1024),
    allowedOrigins: list('allowedOrigins') ?? [],
    logLevel: str('logLevel', 'info'),
  };
  assertSafeBinding(config);
  return config;
}

/** Binding beyond loopback without a token would hand the GPU and the disk to the network. */
export function assertSafeBinding(config: Pick<TailorConfig, 'host' | 'token'>): void {
  if (!isLoopback(config.host) && !config.token) {
    throw new ConfigError(
      `refusing to listen on ${config.host} without TAILOR_TOKEN: set a token (16+ characters) ` +
        'or bind to 127.0.0.1',
    );
  }
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

function readConfigFile(file: string): ConfigInput {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${file} must hold a JSON object`);
  }
  const known = new Set(Object.keys(ENV_NAMES));
  const unknown = Object.keys(parsed).filter((key) => !known.has(key));
  if (unknown.length)
    throw new ConfigError(`config file ${file}: unknown keys ${unknown.join(', ')}`);
  return parsed as ConfigInput;
}
