// Released migration: never edit, add a new numbered file instead.
// Mirrors the SQLite schema. config/result are `json`, not `jsonb`: json keeps the exact text
// (jsonb rejects "\u0000" inside strings and reorders keys).
export default `
CREATE SEQUENCE tasks_queue_seq_seq AS BIGINT;

CREATE TABLE tasks (
  seq              BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- creation order, for newest-first listing
  id               TEXT        NOT NULL UNIQUE,
  type             TEXT        NOT NULL,
  status           TEXT        NOT NULL CHECK (status IN ('pending','running','completed','failed','cancelled')),
  progress         INTEGER     NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  message          TEXT        NOT NULL DEFAULT '',
  config           JSON        NOT NULL,
  result           JSON,
  error_message    TEXT,
  priority         INTEGER     NOT NULL DEFAULT 0,
  queue_seq        BIGINT      NOT NULL DEFAULT nextval('tasks_queue_seq_seq'), -- position in the lane after priority
  attempts         INTEGER     NOT NULL DEFAULT 0,
  max_attempts     INTEGER     NOT NULL,
  owner            TEXT,                               -- node id, stable across restarts
  owner_instance   TEXT,                               -- one process of that node
  claim_token      TEXT,                               -- fences the writes of one claim
  lease_expires_at TIMESTAMPTZ,                        -- database clock, so skewed nodes agree
  cancel_requested BOOLEAN     NOT NULL DEFAULT false,
  version          INTEGER     NOT NULL DEFAULT 1,     -- bumped by every visible change
  created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  started_at       TIMESTAMPTZ,
  completed_at     TIMESTAMPTZ,
  updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
ALTER SEQUENCE tasks_queue_seq_seq OWNED BY tasks.queue_seq;

-- The lane invariant, enforced by the database: at most one running task per type.
CREATE UNIQUE INDEX tasks_one_running_per_type ON tasks (type) WHERE status = 'running';

CREATE INDEX tasks_lane ON tasks (type, priority DESC, queue_seq) WHERE status = 'pending';
CREATE INDEX tasks_queue_seq ON tasks (queue_seq);
CREATE INDEX tasks_by_status ON tasks (status, seq);
CREATE INDEX tasks_by_type ON tasks (type, seq);
CREATE INDEX tasks_by_type_status ON tasks (type, status, seq);
CREATE INDEX tasks_running_owner ON tasks (owner_instance) WHERE status = 'running';

CREATE TABLE task_logs (
  task_id TEXT        NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  seq     INTEGER     NOT NULL,
  time    TIMESTAMPTZ NOT NULL,
  level   TEXT        NOT NULL CHECK (level IN ('debug','info','warn','error')),
  message TEXT        NOT NULL,
  PRIMARY KEY (task_id, seq)
);
`;
