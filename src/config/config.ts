import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/**
 * Server configuration. Every setting is described once, in a `SettingSpec` table: its key (also
 * the config file's key), its environment variable, its flag, its default, a one-line description
 * and its parser. `loadConfig`, the `serve` command's options and `serve --help` are all generated
 * from that table, so a setting cannot be settable from one source and silently ignored from
 * another. Precedence: flags, then environment variables, then an optional JSON config file
 * (`--config` / `TAILOR_CONFIG`), then defaults (SPEC §7).
 */

/** A value as a source gives it: text from a flag or env var, any JSON value from the file. */
export type RawValue = string | number | boolean | readonly unknown[] | null;

export interface SettingSpec<K extends string = string, V = unknown> {
  key: K;
  /** Environment variable. */
  env: string;
  /** Argument placeholder of the flag, e.g. `<url>`; the flag itself is the kebab-cased key. */
  arg: string;
  /** One line for `--help` and the README. */
  description: string;
  /** Default as shown in `--help`. */
  defaultText: string;
  /** Never printed (the value, not the setting, is secret). */
  secret?: boolean;
  /**
   * The value from the first source that gives one, or the default when none does (`raw` is
   * undefined). `earlier` holds the settings above this one in the table, for defaults that
   * derive from them (the database file lives in the data dir). Throws ConfigError.
   */
  parse(raw: RawValue | undefined, earlier: Readonly<Record<string, unknown>>): V;
}

/** The typed config a table of settings produces. */
export type ConfigOf<S extends readonly SettingSpec[]> = {
  -readonly [Spec in S[number] as Spec['key']]: ReturnType<Spec['parse']>;
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** `--data-dir` for `dataDir`. */
export function flagOf(spec: Pick<SettingSpec, 'key'>): string {
  return `--${spec.key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** `dataDir (--data-dir, TAILOR_DATA_DIR)`: how an error names a setting, whatever the source. */
function nameOf(spec: Pick<SettingSpec, 'key' | 'env'>): string {
  return `${spec.key} (${flagOf(spec)}, ${spec.env})`;
}

function setting<K extends string, V>(spec: SettingSpec<K, V>): SettingSpec<K, V> {
  return spec;
}

// Parsers. Each takes what a source gave (text from a flag or the environment, a JSON value from
// the file) and refuses anything else with the setting's names in the message.

function text(spec: { key: string; env: string }, raw: RawValue | undefined): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number') return String(raw);
  throw new ConfigError(`${nameOf(spec)} must be a string, got ${JSON.stringify(raw)}`);
}

export function stringSetting<K extends string>(
  spec: Omit<SettingSpec<K, string>, 'parse' | 'defaultText'> & {
    fallback: string;
    normalize?: (value: string) => string;
  },
): SettingSpec<K, string> {
  return setting({
    ...spec,
    defaultText: spec.fallback,
    parse(raw) {
      const value = text(spec, raw) ?? spec.fallback;
      return spec.normalize ? spec.normalize(value) : value;
    },
  });
}

export function optionalStringSetting<K extends string>(
  spec: Omit<SettingSpec<K, string | null>, 'parse' | 'defaultText'> & {
    check?: (value: string) => void;
  },
): SettingSpec<K, string | null> {
  return setting({
    ...spec,
    defaultText: '—',
    parse(raw) {
      const value = text(spec, raw);
      if (value === undefined || value === '') return null;
      spec.check?.(value);
      return value;
    },
  });
}

export function integerSetting<K extends string>(
  spec: Omit<SettingSpec<K, number>, 'parse' | 'defaultText' | 'arg'> & {
    fallback: number;
    min: number;
    max: number;
    arg?: string;
  },
): SettingSpec<K, number> {
  return setting({
    arg: '<n>',
    ...spec,
    defaultText: String(spec.fallback),
    parse(raw) {
      if (raw === undefined || raw === null) return spec.fallback;
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : NaN;
      if (raw === '' || !Number.isInteger(n) || n < spec.min || n > spec.max) {
        throw new ConfigError(
          `${nameOf(spec)} must be an integer from ${spec.min} to ${spec.max}, got ${JSON.stringify(raw)}`,
        );
      }
      return n;
    },
  });
}

/**
 * Text split at `separator` (a comma; `:` for folder lists, like PATH), or a JSON array of strings
 * in the file; empty → null.
 */
function parseList(
  spec: { key: string; env: string },
  raw: RawValue | undefined,
  separator = ',',
): string[] | null {
  if (raw === undefined || raw === null || raw === '') return null;
  let items: unknown[];
  if (typeof raw === 'string') items = raw.split(separator);
  else if (Array.isArray(raw)) items = [...(raw as readonly unknown[])];
  else throw new ConfigError(`${nameOf(spec)} must be a comma-separated list or an array`);
  if (items.some((item) => typeof item !== 'string'))
    throw new ConfigError(`${nameOf(spec)} must list strings, got ${JSON.stringify(raw)}`);
  const list = (items as string[]).map((item) => item.trim()).filter(Boolean);
  return list.length ? list : null;
}

export function listSetting<K extends string>(
  spec: Omit<SettingSpec<K, string[] | null>, 'parse'>,
): SettingSpec<K, string[] | null> {
  return setting({ ...spec, parse: (raw) => parseList(spec, raw) });
}

export function choiceSetting<K extends string, C extends string>(
  spec: Omit<SettingSpec<K, C>, 'parse' | 'defaultText'> & {
    choices: readonly C[];
    fallback: C;
  },
): SettingSpec<K, C> & { choices: readonly C[] } {
  return {
    ...spec,
    description: `${spec.description}: ${spec.choices.join(', ')}`,
    defaultText: spec.fallback,
    parse(raw) {
      const value = text(spec, raw);
      if (value === undefined || value === '') return spec.fallback;
      const choice = spec.choices.find((c) => c === value);
      if (!choice)
        throw new ConfigError(
          `${nameOf(spec)} must be one of ${spec.choices.join(', ')}, got ${JSON.stringify(value)}`,
        );
      return choice;
    },
  };
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** `auto`: pretty coloured lines on a terminal, JSON lines otherwise (files, log collectors). */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;

/** The server's settings, in resolution order (a default may read the settings above it). */
export const CORE_SETTINGS = [
  stringSetting({
    key: 'host',
    env: 'TAILOR_HOST',
    arg: '<host>',
    fallback: '127.0.0.1',
    description: 'bind address; anything but loopback requires a token',
  }),
  integerSetting({
    key: 'port',
    env: 'TAILOR_PORT',
    arg: '<port>',
    fallback: 50052,
    min: 0,
    max: 65535,
    description: 'HTTP port (0 picks a free one)',
  }),
  stringSetting({
    key: 'dataDir',
    env: 'TAILOR_DATA_DIR',
    arg: '<dir>',
    fallback: './data',
    normalize: (dir) => resolve(dir),
    description: 'database file, and task outputs in outputs/<task_id>/',
  }),
  setting({
    key: 'db',
    env: 'TAILOR_DB',
    arg: '<file|url>',
    defaultText: '<dataDir>/tailor.db',
    description: 'SQLite file, or a postgres:// URL for cluster mode',
    parse(raw, earlier): string {
      const value = text({ key: 'db', env: 'TAILOR_DB' }, raw);
      if (value === undefined || value === '') return join(String(earlier.dataDir), 'tailor.db');
      return isPostgresUrl(value) || isAbsolute(value) ? value : resolve(value);
    },
  }),
  optionalStringSetting({
    key: 'token',
    env: 'TAILOR_TOKEN',
    arg: '<token>',
    secret: true,
    description: 'bearer token (16+ characters) for every route but /health, and for /ws',
    check(token) {
      if (token.length < 16)
        throw new ConfigError('token (--token, TAILOR_TOKEN) must be at least 16 characters long');
    },
  }),
  setting({
    key: 'modelsDir',
    env: 'TAILOR_MODELS_DIR',
    arg: '<dir>',
    defaultText: '<dataDir>/models',
    description: 'model files (WD14 taggers in wd14/<name>/, checkpoints in checkpoints/)',
    parse(raw, earlier): string {
      const value = text({ key: 'modelsDir', env: 'TAILOR_MODELS_DIR' }, raw);
      return resolve(value || join(String(earlier.dataDir), 'models'));
    },
  }),
  setting({
    key: 'imageRoots',
    env: 'TAILOR_IMAGE_ROOTS',
    arg: '<dirs>',
    defaultText: 'the data dir',
    description:
      'folders users may name as inputs and outputs besides the data dir, `:`-separated like PATH',
    parse: (raw): string[] =>
      (parseList({ key: 'imageRoots', env: 'TAILOR_IMAGE_ROOTS' }, raw, ':') ?? []).map((dir) =>
        resolve(dir),
      ),
  }),
  optionalStringSetting({
    key: 'proxy',
    env: 'TAILOR_PROXY',
    arg: '<url>',
    description: 'proxy for every executor request',
  }),
  setting({
    key: 'nodeId',
    env: 'TAILOR_NODE_ID',
    arg: '<id>',
    defaultText: '<hostname>:<port>',
    description: 'stable node name; on restart a node recovers its own interrupted tasks at once',
    parse(raw, earlier): string {
      const value = text({ key: 'nodeId', env: 'TAILOR_NODE_ID' }, raw);
      return value || `${hostname()}:${String(earlier.port)}`;
    },
  }),
  listSetting({
    key: 'executors',
    env: 'TAILOR_EXECUTORS',
    arg: '<types>',
    defaultText: 'all',
    description: 'comma-separated task types this node runs',
  }),
  integerSetting({
    key: 'leaseMs',
    env: 'TAILOR_LEASE_MS',
    fallback: 30_000,
    min: 1_000,
    max: 3_600_000,
    description: 'a running task whose owner stops renewing for this long is recovered elsewhere',
  }),
  integerSetting({
    key: 'graceMs',
    env: 'TAILOR_GRACE_MS',
    fallback: 10_000,
    min: 0,
    max: 600_000,
    description: 'how long a stopped executor may take to return before the lane moves on',
  }),
  integerSetting({
    key: 'pollMs',
    env: 'TAILOR_POLL_MS',
    fallback: 5_000,
    min: 100,
    max: 3_600_000,
    description: 'safety-net poll (recovery); lanes start on signals, not on this',
  }),
  integerSetting({
    key: 'bodyLimit',
    env: 'TAILOR_BODY_LIMIT',
    arg: '<bytes>',
    fallback: 1024 * 1024,
    min: 1024,
    max: 64 * 1024 * 1024,
    description: 'request body limit in bytes',
  }),
  setting({
    key: 'allowedOrigins',
    env: 'TAILOR_ALLOWED_ORIGINS',
    arg: '<origins>',
    defaultText: '—',
    description: 'extra origins for CORS and WebSocket, comma-separated (never *)',
    parse: (raw): string[] =>
      parseList({ key: 'allowedOrigins', env: 'TAILOR_ALLOWED_ORIGINS' }, raw) ?? [],
  }),
  choiceSetting({
    key: 'logLevel',
    env: 'TAILOR_LOG_LEVEL',
    arg: '<level>',
    choices: LOG_LEVELS,
    fallback: 'info',
    description: 'pino log level',
  }),
  choiceSetting({
    key: 'logFormat',
    env: 'TAILOR_LOG_FORMAT',
    arg: '<format>',
    choices: LOG_FORMATS,
    fallback: 'auto',
    description: 'auto = pretty coloured lines on a terminal, JSON lines otherwise',
  }),
] as const;

export type TailorConfig = ConfigOf<typeof CORE_SETTINGS> & {
  /** Values of settings appended by modules (`loadConfig`'s `extraSettings`), by key. */
  extra: Readonly<Record<string, unknown>>;
};

/** What flags and tests pass in: raw values by key (a number for `port` is fine). */
export type ConfigInput = Partial<Record<string, RawValue | undefined>>;

/**
 * Resolve every setting of `specs` from flags, env and file values: the first source that has a
 * value wins (an empty env var counts as unset), then the setting's default.
 */
export function resolveSettings<const S extends readonly SettingSpec[]>(
  specs: S,
  flags: ConfigInput,
  env: NodeJS.ProcessEnv,
  fromFile: ConfigInput,
): ConfigOf<S> {
  const values: Record<string, unknown> = {};
  for (const spec of specs) {
    const fromEnv = env[spec.env];
    const raw =
      flags[spec.key] ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : fromFile[spec.key]);
    values[spec.key] = spec.parse(raw, values);
  }
  // Each value came from its own spec's parser, keyed by that spec's key: the mapped type holds.
  return values as ConfigOf<S>;
}

/**
 * The server's config from flags, env and the config file (`configFile`, else `TAILOR_CONFIG`).
 * `extraSettings` are settings of modules (executors) appended to the core table: they are read
 * from the same three sources and land in `config.extra`.
 */
export function loadConfig(
  flags: ConfigInput = {},
  env: NodeJS.ProcessEnv = process.env,
  configFile?: string,
  extraSettings: readonly SettingSpec[] = [],
): TailorConfig {
  const file = configFile ?? (env.TAILOR_CONFIG || undefined);
  const known = [...CORE_SETTINGS, ...extraSettings];
  const duplicate = known.find((spec, i) => known.findIndex((s) => s.key === spec.key) !== i);
  if (duplicate) throw new Error(`setting ${duplicate.key} is declared twice`);
  const fromFile = file ? readConfigFile(file, new Set(known.map((spec) => spec.key))) : {};
  const core = resolveSettings(CORE_SETTINGS, flags, env, fromFile);
  const config: TailorConfig = {
    ...core,
    extra: resolveSettings(extraSettings, flags, env, fromFile),
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

/**
 * A JSON object of settings by key. The server refuses an unknown key (a typo must not pass
 * silently); `known` null accepts any (the CLI's client commands read only host, port, token).
 */
export function readConfigFile(file: string, known: ReadonlySet<string> | null): ConfigInput {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${file} must hold a JSON object`);
  }
  const unknown = known ? Object.keys(parsed).filter((key) => !known.has(key)) : [];
  if (unknown.length)
    throw new ConfigError(`config file ${file}: unknown keys ${unknown.join(', ')}`);
  return parsed as ConfigInput;
}
