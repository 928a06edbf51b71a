import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/**
 * Server configuration. Precedence: command-line flags, then environment variables, then an
 * optional JSON config file (`--config` / `TAILOR_CONFIG`), then defaults.
 */
export interface TailorConfig {
  host: string;
  port: number;
  dataDir: string;
  /** A SQLite file path, or a `postgres://` URL. */
  db: string;
  token: string | null;
  proxy: string | null;
  /** Model files (`TAILOR_MODELS_DIR`, default `<dataDir>/models`). */
  modelsDir: string;
  /** Folders users may name as inputs and outputs besides the data dir (`TAILOR_IMAGE_ROOTS`). */
  imageRoots: string[];
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
  /** Executor modules' own settings by key (see `SettingSpec`); null = not set. */
  settings: Readonly<Record<string, string | null>>;
}

/**
 * A configuration key that an executor module declares (its WebUI URL, its cookie…). It is read
 * like the core keys — flag, then env var, then config file, then default — and listed with them
 * in `tailor serve --help` and the README.
 */
export interface SettingSpec {
  /** Environment variable, e.g. `SD_WEBUI_URL`. */
  env: string;
  /** Used when no flag, env var or config-file key gives a value; absent means "not set" (null). */
  default?: string;
  description: string;
  /** Never shown: not in `/api/task-types`, logs, errors, `--help` defaults or events. */
  secret?: boolean;
}

/** Settings by their camelCase key (the config-file key; the flag is its kebab-case form). */
export type SettingSpecs = Readonly<Record<string, SettingSpec>>;

/** Keys a config file and flags may set (camelCase), and the env var of each. */
const ENV_NAMES: Record<keyof TailorConfig, string> = {
  host: 'TAILOR_HOST',
  port: 'TAILOR_PORT',
  dataDir: 'TAILOR_DATA_DIR',
  db: 'TAILOR_DB',
  token: 'TAILOR_TOKEN',
  proxy: 'TAILOR_PROXY',
  modelsDir: 'TAILOR_MODELS_DIR',
  imageRoots: 'TAILOR_IMAGE_ROOTS',
  nodeId: 'TAILOR_NODE_ID',
  executors: 'TAILOR_EXECUTORS',
  leaseMs: 'TAILOR_LEASE_MS',
  graceMs: 'TAILOR_GRACE_MS',
  pollMs: 'TAILOR_POLL_MS',
  bodyLimit: 'TAILOR_BODY_LIMIT',
  allowedOrigins: 'TAILOR_ALLOWED_ORIGINS',
  logLevel: 'TAILOR_LOG_LEVEL',
  settings: '',
};

type InputValue = string | number | string[] | null | undefined;

/** Flags or a config file: core keys, and the keys of the module settings passed along. */
export type ConfigInput = Partial<Record<Exclude<keyof TailorConfig, 'settings'>, InputValue>> &
  Readonly<Record<string, InputValue>>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(
  flags: ConfigInput = {},
  env: NodeJS.ProcessEnv = process.env,
  configFile?: string,
  settings: SettingSpecs = {},
): TailorConfig {
  const file = configFile ?? env.TAILOR_CONFIG;
  const fromFile: ConfigInput = file ? readConfigFile(file, settings) : {};
  const pickFrom = (key: string, envName: string): InputValue => {
    if (flags[key] !== undefined) return flags[key];
    const fromEnv = env[envName];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    return fromFile[key];
  };
  const pick = (key: keyof TailorConfig): InputValue => pickFrom(key, ENV_NAMES[key]);
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

  // `:`-separated like PATH (a folder name may hold a comma); a config file may give an array.
  const pathList = (key: keyof TailorConfig): string[] | null => {
    const value = pick(key);
    if (value === undefined || value === null || value === '') return null;
    const items = Array.isArray(value) ? value : String(value).split(':');
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
    proxy: optional('proxy'),
    modelsDir: resolve(str('modelsDir', join(dataDir, 'models'))),
    imageRoots: (pathList('imageRoots') ?? []).map((root) => resolve(root)),
    nodeId: str('nodeId', `${hostname()}:${port}`),
    executors: list('executors'),
    leaseMs: int('leaseMs', 30_000, 1_000, 3_600_000),
    graceMs: int('graceMs', 10_000, 0, 600_000),
    pollMs: int('pollMs', 5_000, 100, 3_600_000),
    bodyLimit: int('bodyLimit', 1024 * 1024, 1024, 64 * 1024 * 1024),
    allowedOrigins: list('allowedOrigins') ?? [],
    logLevel: str('logLevel', 'info'),
    settings: Object.fromEntries(
      Object.entries(settings).map(([key, spec]) => {
        const value = pickFrom(key, spec.env);
        return [
          key,
          value === undefined || value === null ? (spec.default ?? null) : String(value),
        ];
      }),
    ),
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

function readConfigFile(file: string, settings: SettingSpecs): ConfigInput {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${file} must hold a JSON object`);
  }
  const known = new Set([
    ...Object.keys(ENV_NAMES).filter((key) => key !== 'settings'),
    ...Object.keys(settings),
  ]);
  const unknown = Object.keys(parsed).filter((key) => !known.has(key));
  if (unknown.length)
    throw new ConfigError(`config file ${file}: unknown keys ${unknown.join(', ')}`);
  return parsed as ConfigInput;
}
