/**
 * Named generation configs (prompt, sampler, LoRAs…): name and category in columns of their own,
 * the validated fields as one JSON body. One query per method and dialect, in plain SQL.
 */
import { newTaskId } from '../../../domain/ids.js';
import type { JsonObject } from '../../../domain/task.js';
import type { ModuleSql } from '../../../store/store.js';

export interface StoredConfig {
  id: string;
  name: string;
  category: string;
  body: JsonObject;
  created_at: string;
  updated_at: string;
}

export interface NewConfig {
  name: string;
  category: string;
  body: JsonObject;
}

/** `name` matches as a literal, case-insensitive substring; `category` exactly. Sorted by name. */
export interface ConfigQuery {
  page: number;
  pageSize: number;
  name?: string | undefined;
  category?: string | undefined;
}

interface ConfigRow {
  id: string;
  name: string;
  category: string;
  body: string;
  created_at: string;
  updated_at: string;
}

const toConfig = (row: ConfigRow): StoredConfig => ({
  ...row,
  body: JSON.parse(row.body) as JsonObject,
});

const iso = (column: string): string =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * The statements of each dialect: `?` (SQLite) or `$n` (PostgreSQL) placeholders. SQLite binds
 * `?` in order of appearance, so every statement numbers its parameters in that order.
 */
const DIALECTS = {
  sqlite: {
    columns: '*',
    nameMatch: (p: string) => `instr(lower(name), lower(${p})) > 0`,
    order: 'name COLLATE NOCASE, id',
    param: () => '?',
    json: (p: string) => p,
  },
  postgres: {
    columns: `id, name, category, body::text AS body,
      ${iso('created_at')} AS created_at, ${iso('updated_at')} AS updated_at`,
    nameMatch: (p: string) => `strpos(lower(name), lower(${p})) > 0`,
    order: 'lower(name) COLLATE "C", id COLLATE "C"',
    param: (n: number) => `$${n}`,
    json: (p: string) => `${p}::json`,
  },
} as const;

export class ConfigStore {
  private readonly d: (typeof DIALECTS)[keyof typeof DIALECTS];

  constructor(private readonly sql: ModuleSql) {
    this.d = DIALECTS[sql.dialect];
  }

  async list(query: ConfigQuery): Promise<{ configs: StoredConfig[]; total: number }> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.name) {
      params.push(query.name);
      where.push(this.d.nameMatch(this.d.param(params.length)));
    }
    if (query.category !== undefined) {
      params.push(query.category);
      where.push(`category = ${this.d.param(params.length)}`);
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const [count] = await this.sql.rows<{ n: string | number }>(
      `SELECT count(*) AS n FROM generation_configs ${clause}`,
      params,
    );
    const rows = await this.sql.rows<ConfigRow>(
      `SELECT ${this.d.columns} FROM generation_configs ${clause} ORDER BY ${this.d.order}
        LIMIT ${this.d.param(params.length + 1)} OFFSET ${this.d.param(params.length + 2)}`,
      [...params, query.pageSize, (query.page - 1) * query.pageSize],
    );
    return { configs: rows.map(toConfig), total: Number(count?.n ?? 0) };
  }

  async get(id: string): Promise<StoredConfig | null> {
    const [row] = await this.sql.rows<ConfigRow>(
      `SELECT ${this.d.columns} FROM generation_configs WHERE id = ${this.d.param(1)}`,
      [id],
    );
    return row ? toConfig(row) : null;
  }

  async create(input: NewConfig): Promise<StoredConfig> {
    const now = new Date().toISOString();
    const p = this.d.param;
    const [row] = await this.sql.rows<ConfigRow>(
      `INSERT INTO generation_configs (id, name, category, body, created_at, updated_at)
       VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${this.d.json(p(4))}, ${this.timestamp(5)}, ${this.timestamp(6)})
       RETURNING ${this.d.columns}`,
      [newTaskId(), input.name, input.category, JSON.stringify(input.body), now, now],
    );
    return toConfig(row!);
  }

  async update(id: string, input: NewConfig): Promise<StoredConfig | null> {
    const p = this.d.param;
    const [row] = await this.sql.rows<ConfigRow>(
      `UPDATE generation_configs
          SET name = ${p(1)}, category = ${p(2)}, body = ${this.d.json(p(3))}, updated_at = ${this.timestamp(4)}
        WHERE id = ${p(5)}
       RETURNING ${this.d.columns}`,
      [input.name, input.category, JSON.stringify(input.body), new Date().toISOString(), id],
    );
    return row ? toConfig(row) : null;
  }

  async delete(id: string): Promise<boolean> {
    const rows = await this.sql.rows(
      `DELETE FROM generation_configs WHERE id = ${this.d.param(1)} RETURNING id`,
      [id],
    );
    return rows.length > 0;
  }

  /** SQLite stores ISO text as given; PostgreSQL parses it into a timestamptz. */
  private timestamp(n: number): string {
    return this.sql.dialect === 'postgres' ? `${this.d.param(n)}::timestamptz` : this.d.param(n);
  }
}
