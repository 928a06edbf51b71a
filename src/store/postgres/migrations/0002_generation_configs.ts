// Released migration: never edit, add a new numbered file instead.
export default `
CREATE TABLE generation_configs (
  id         TEXT        NOT NULL PRIMARY KEY,
  name       TEXT        NOT NULL,
  category   TEXT        NOT NULL DEFAULT '',
  body       JSON        NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- lower(…) COLLATE "C" sorts like SQLite's NOCASE: case-folded, then by code point.
CREATE INDEX generation_configs_by_name ON generation_configs ((lower(name) COLLATE "C"), id);
CREATE INDEX generation_configs_by_category ON generation_configs (category, (lower(name) COLLATE "C"));
`;
