import type { ModuleMigration } from '../../../store/store.js';

/*
 * Generation configs were a core table (core migration 2 of both stores) before the generate
 * module owned them; `IF NOT EXISTS` adopts that table with its rows on databases that have it.
 * Released migrations: never edit, add a new version instead.
 */

export const SQLITE_MIGRATIONS: readonly ModuleMigration[] = [
  {
    version: 1,
    name: 'generation_configs',
    sql: `
CREATE TABLE IF NOT EXISTS generation_configs (
  id         TEXT NOT NULL PRIMARY KEY,
  name       TEXT NOT NULL,
  category   TEXT NOT NULL DEFAULT '',
  body       TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS generation_configs_by_name ON generation_configs (name COLLATE NOCASE, id);
CREATE INDEX IF NOT EXISTS generation_configs_by_category ON generation_configs (category, name COLLATE NOCASE);
`,
  },
];

export const POSTGRES_MIGRATIONS: readonly ModuleMigration[] = [
  {
    version: 1,
    name: 'generation_configs',
    sql: `
CREATE TABLE IF NOT EXISTS generation_configs (
  id         TEXT        NOT NULL PRIMARY KEY,
  name       TEXT        NOT NULL,
  category   TEXT        NOT NULL DEFAULT '',
  body       JSON        NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- lower(…) COLLATE "C" sorts like SQLite's NOCASE: case-folded, then by code point.
CREATE INDEX IF NOT EXISTS generation_configs_by_name
  ON generation_configs ((lower(name) COLLATE "C"), id);
CREATE INDEX IF NOT EXISTS generation_configs_by_category
  ON generation_configs (category, (lower(name) COLLATE "C"));
`,
  },
];
