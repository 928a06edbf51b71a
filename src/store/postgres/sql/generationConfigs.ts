import { newTaskId } from '../../../domain/ids.js';
import { toConfig, type ConfigRow } from '../../rows.js';
import type { ConfigQuery, NewConfig, StoredConfig } from '../../store.js';
import type { Sql } from '../database.js';
import { iso, pgText } from '../rows.js';

const CONFIG_COLUMNS = `id, name, category, body::text AS body,
  ${iso('created_at')} AS created_at, ${iso('updated_at')} AS updated_at`;

/** `name` is a literal, case-insensitive substring (strpos, so `%` and `_` are not wildcards). */
export async function listConfigs(
  sql: Sql,
  query: ConfigQuery,
): Promise<{ configs: StoredConfig[]; total: number }> {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (query.name) {
    params.push(pgText(query.name));
    where.push(`strpos(lower(name), lower($${params.length})) > 0`);
  }
  if (query.category !== undefined) {
    params.push(pgText(query.category));
    where.push(`category = $${params.length}`);
  }
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const [count] = await sql.rows<{ n: string }>(
    `SELECT count(*) AS n FROM generation_configs ${clause}`,
    params,
  );
  const rows = await sql.rows<ConfigRow>(
    `SELECT ${CONFIG_COLUMNS} FROM generation_configs ${clause}
      ORDER BY lower(name) COLLATE "C", id COLLATE "C"
      LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
    [...params, query.pageSize, (query.page - 1) * query.pageSize],
  );
  return { configs: rows.map(toConfig), total: Number(count!.n) };
}

export async function getConfig(sql: Sql, id: string): Promise<StoredConfig | null> {
  const [row] = await sql.rows<ConfigRow>(
    `SELECT ${CONFIG_COLUMNS} FROM generation_configs WHERE id = $1`,
    [id],
  );
  return row ? toConfig(row) : null;
}

export async function createConfig(sql: Sql, input: NewConfig): Promise<StoredConfig> {
  const [row] = await sql.rows<ConfigRow>(
    `INSERT INTO generation_configs (id, name, category, body) VALUES ($1, $2, $3, $4::json)
     RETURNING ${CONFIG_COLUMNS}`,
    [newTaskId(), pgText(input.name), pgText(input.category), JSON.stringify(input.body)],
  );
  return toConfig(row!);
}

export async function updateConfig(
  sql: Sql,
  id: string,
  input: NewConfig,
): Promise<StoredConfig | null> {
  const [row] = await sql.rows<ConfigRow>(
    `UPDATE generation_configs SET name = $2, category = $3, body = $4::json, updated_at = now()
      WHERE id = $1
     RETURNING ${CONFIG_COLUMNS}`,
    [id, pgText(input.name), pgText(input.category), JSON.stringify(input.body)],
  );
  return row ? toConfig(row) : null;
}

export async function deleteConfig(sql: Sql, id: string): Promise<boolean> {
  return (
    (await sql.rows(`DELETE FROM generation_configs WHERE id = $1 RETURNING 1`, [id])).length > 0
  );
}
