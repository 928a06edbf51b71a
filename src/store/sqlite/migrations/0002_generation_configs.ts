// Released migration: never edit, add a new numbered file instead.
export default `
CREATE TABLE generation_configs (
  id         TEXT NOT NULL PRIMARY KEY,
  name       TEXT NOT NULL,
  category   TEXT NOT NULL DEFAULT '',
  body       TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX generation_configs_by_name ON generation_configs (name COLLATE NOCASE, id);
CREATE INDEX generation_configs_by_category ON generation_configs (category, name COLLATE NOCASE);
`;
