import { newTaskId } from '../../../domain/ids.js';
import { toConfig, type ConfigRow } from '../../rows.js';
import type { ConfigQuery, NewConfig, StoredConfig } from '../../store.js';
import type { SqliteDb } from '../database.js';

export function listConfigs(
  db: SqliteDb,
  query: ConfigQuery,
): { configs: StoredConfig[]; total: number } {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (query.name) {
    where.push(`instr(lower(name), lower(?)) > 0`);
    params.push(query.name);
  }
  if (query.category !== undefined) {
    where.push('category = ?');
    params.push(query.category);
  }
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = (
    db.stmt(`SELECT COUNT(*) AS n FROM generation_configs ${clause}`).get(...params) as {
      n: number;
    }
  ).n;
  const rows = db
    .stmt(
      `SELECT * FROM generation_configs ${clause} ORDER BY name COLLATE NOCASE, id LIMIT ? OFFSET ?`,
    )
    .all(...params, query.pageSize, (query.page - 1) * query.pageSize) as ConfigRow[];
  return { configs: rows.map(toConfig), total };
}

export function getConfig(db: SqliteDb, id: string): StoredConfig | null {
  const row = db.stmt('SELECT * FROM generation_configs WHERE id = ?').get(id) as
    ConfigRow | undefined;
  return row ? toConfig(row) : null;
}

export function createConfig(db: SqliteDb, input: NewConfig, now: string): StoredConfig {
  const row = db
    .stmt(
      `INSERT INTO generation_configs (id, name, category, body, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?) RETURNING *`,
    )
    .get(
      newTaskId(),
      input.name,
      input.category,
      JSON.stringify(input.body),
      now,
      now,
    ) as ConfigRow;
  return toConfig(row);
}

export function updateConfig(
  db: SqliteDb,
  id: string,
  input: NewConfig,
  now: string,
): StoredConfig | null {
  const row = db
    .stmt(
      `UPDATE generation_configs SET name = ?, category = ?, body = ?, updated_at = ?
        WHERE id = ? RETURNING *`,
    )
    .get(input.name, input.category, JSON.stringify(input.body), now, id) as ConfigRow | undefined;
  return row ? toConfig(row) : null;
}

export function deleteConfig(db: SqliteDb, id: string): boolean {
  return db.stmt('DELETE FROM generation_configs WHERE id = ?').run(id).changes > 0;
}
