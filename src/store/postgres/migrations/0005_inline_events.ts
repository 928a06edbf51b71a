// Released migration: never edit, add a new numbered file instead.
// The hand-off sends its own cluster events. Per call, the statement triggers of migration 3 ran
// three times (finish UPDATE, claim UPDATE, log INSERT), each capturing transition tables,
// counting and joining them: a quarter of the server time of a hand-off. The hand-off already
// knows which rows it changed, so it builds the same payloads from them in one statement, and
// the triggers skip statements run inside it (their WHEN reads a setting only the function sets).
// Every other write path still gets its events from the triggers.
export default `
DROP TRIGGER tasks_updated_event ON tasks;
CREATE TRIGGER tasks_updated_event AFTER UPDATE ON tasks
  REFERENCING OLD TABLE AS before_update NEW TABLE AS after_update
  FOR EACH STATEMENT
  WHEN (current_setting('tailor.inline_events', true) IS DISTINCT FROM 'on')
  EXECUTE FUNCTION tailor_tasks_updated();

DROP TRIGGER task_logs_inserted_event ON task_logs;
CREATE TRIGGER task_logs_inserted_event AFTER INSERT ON task_logs
  REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT
  WHEN (current_setting('tailor.inline_events', true) IS DISTINCT FROM 'on')
  EXECUTE FUNCTION tailor_logs_inserted();

CREATE OR REPLACE FUNCTION tailor_finish_and_claim(
  finish_ids TEXT[], finish_tokens TEXT[], finish_statuses TEXT[], finish_results TEXT[],
  finish_errors TEXT[], lanes TEXT[], lane_tokens TEXT[], claim_node TEXT, claim_instance TEXT,
  lease_ms FLOAT8)
RETURNS TABLE (
  step TEXT, id TEXT, type TEXT, status TEXT, progress INTEGER, message TEXT, config TEXT,
  result TEXT, error_message TEXT, priority INTEGER, attempts INTEGER, max_attempts INTEGER,
  owner TEXT, claim_token TEXT, version INTEGER, created_at TEXT, started_at TEXT,
  completed_at TEXT, updated_at TEXT, log_seq INTEGER, log_time TEXT, log_message TEXT)
LANGUAGE plpgsql VOLATILE
-- Plans are made once per connection and kept (generic), and never with a sequential scan. Every
-- statement here has an index to use; without these settings a plan cached while the table was
-- still small (a seq scan was cheapest then) stays in use as the table grows — until an ANALYZE
-- invalidates it, which never comes where autovacuum is off — and re-planning on every call
-- instead (custom plans) costs a third of a hand-off.
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
-- While this function runs the event triggers stand aside (their WHEN reads this setting); the
-- function sends the same events itself, in step 6. The setting ends with the call.
SET tailor.inline_events = 'on'
AS $fn$
#variable_conflict use_column
DECLARE
  finished_seqs BIGINT[] := '{}';
  freed TEXT[] := '{}';
  claimed_seqs BIGINT[] := '{}';
  one_seq BIGINT[];
  these_lanes TEXT[] := lanes;
  these_tokens TEXT[] := lane_tokens;
  log_tasks TEXT[] := '{}';
  log_seqs INTEGER[] := '{}';
  origin TEXT := coalesce(current_setting('tailor.origin', true), '');
BEGIN
  -- 1. running → completed | failed | cancelled, fenced by the claim token.
  IF cardinality(finish_ids) > 0 THEN
    WITH done AS (
      UPDATE tasks AS t
         SET version = t.version + 1, status = f.outcome, result = f.output::json,
             error_message = f.error,
             progress = CASE WHEN f.outcome = 'completed' THEN 100 ELSE t.progress END,
             lease_expires_at = NULL, cancel_requested = false, completed_at = now(),
             updated_at = now()
        FROM unnest(finish_ids, finish_tokens, finish_statuses, finish_results, finish_errors)
             AS f (task_id, fence, outcome, output, error)
       WHERE t.id = f.task_id AND t.claim_token = f.fence AND t.status = 'running'
      RETURNING t.seq, t.type)
    SELECT coalesce(array_agg(seq), '{}'), coalesce(array_agg(DISTINCT type), '{}')
      INTO finished_seqs, freed FROM done;
  END IF;

  IF cardinality(lanes) > 0 THEN
    -- 2. Serialize claimers of these lanes until commit. Without it two nodes would skip each
    -- other's locked head (SKIP LOCKED) and the later pick — the lane's second task — could win.
    PERFORM count(pg_advisory_xact_lock(7317, hashtext(current_schema() || '.' || l.lane)))
       FROM (SELECT u.lane FROM unnest(lanes) WITH ORDINALITY AS u (lane, n) ORDER BY u.n) AS l;

    -- 3. pending → running for the head of every lane that has no running task. The partial
    -- unique index is the last word: should a claim race a writer that skipped the lane lock,
    -- the attempt with all lanes is undone and each lane is tried alone (attempts 1..n), so only
    -- the lost lane gives nothing.
    FOR attempt IN 0 .. cardinality(lanes) LOOP
      IF attempt > 0 THEN
        these_lanes := ARRAY[lanes[attempt]];
        these_tokens := ARRAY[lane_tokens[attempt]];
      END IF;
      BEGIN
        WITH head AS (
          SELECT pick.seq, c.token
            FROM unnest(these_lanes, these_tokens) AS c (lane, token)
           CROSS JOIN LATERAL (
             SELECT p.seq FROM tasks AS p
              WHERE p.type = c.lane AND p.status = 'pending'
                AND NOT EXISTS (SELECT 1 FROM tasks AS busy
                                 WHERE busy.type = c.lane AND busy.status = 'running')
              ORDER BY p.priority DESC, p.queue_seq ASC
              LIMIT 1
                FOR NO KEY UPDATE SKIP LOCKED) AS pick),
        claimed AS (
          UPDATE tasks AS t
             SET version = t.version + 1, status = 'running', attempts = t.attempts + 1,
                 progress = 0, message = '', result = NULL, error_message = NULL,
                 owner = claim_node, owner_instance = claim_instance, claim_token = head.token,
                 lease_expires_at = clock_timestamp() + lease_ms * interval '1 millisecond',
                 cancel_requested = false, started_at = now(), completed_at = NULL,
                 updated_at = now()
            FROM head
           WHERE t.seq = head.seq
          RETURNING t.seq)
        SELECT coalesce(array_agg(seq), '{}') INTO one_seq FROM claimed;
        claimed_seqs := claimed_seqs || one_seq;
        EXIT WHEN attempt = 0;
      EXCEPTION WHEN unique_violation OR deadlock_detected THEN
        NULL;
      END;
    END LOOP;

    -- 4. Each claimed attempt's first log line. Appenders of a task hold this advisory lock
    -- while they pick the next seq; a late appender of an earlier attempt may still be writing.
    IF cardinality(claimed_seqs) > 0 THEN
      PERFORM count(pg_advisory_xact_lock(7318, k.key))
         FROM (SELECT DISTINCT hashtext(t.id) AS key FROM tasks AS t
                WHERE t.seq = ANY (claimed_seqs) ORDER BY key) AS k;
      WITH written AS (
        INSERT INTO task_logs (task_id, seq, "time", level, message)
        SELECT t.id, coalesce((SELECT max(g.seq) FROM task_logs AS g WHERE g.task_id = t.id), 0) + 1,
               now(), 'info',
               format('started attempt %s of %s on %s', t.attempts, t.max_attempts, claim_node)
          FROM tasks AS t
         WHERE t.seq = ANY (claimed_seqs)
        RETURNING task_id, seq)
      SELECT coalesce(array_agg(task_id), '{}'), coalesce(array_agg(seq), '{}')
        INTO log_tasks, log_seqs FROM written;
    END IF;
  END IF;

  -- 5. A lane freed here and not refilled may have work for another node.
  PERFORM count(pg_notify('tailor_lane', f.lane))
     FROM unnest(freed) AS f (lane)
    WHERE NOT EXISTS (SELECT 1 FROM tasks AS t
                       WHERE t.seq = ANY (claimed_seqs) AND t.type = f.lane);

  -- 6. The events the triggers of migration 3 would have sent, in the order they would have:
  -- the finished rows, the claimed rows, then each claimed attempt's log line.
  PERFORM pg_notify('tailor_event', e.payload)
     FROM (SELECT 1 AS phase, t.seq, tailor_task_event('s', t) AS payload
             FROM tasks AS t WHERE t.seq = ANY (finished_seqs)
           UNION ALL
           SELECT 2, t.seq, tailor_task_event('s', t)
             FROM tasks AS t WHERE t.seq = ANY (claimed_seqs)
           UNION ALL
           SELECT 3, t.seq, json_build_object('k', 'l', 's', current_schema(), 'n', origin,
                                              'id', l.task_id, 'a', l.seq, 'b', l.seq)::text
             FROM unnest(log_tasks, log_seqs) AS l (task_id, seq)
             JOIN tasks AS t ON t.id = l.task_id
           ORDER BY 1, 2) AS e;

  RETURN QUERY
    SELECT s.step, t.id, t.type, t.status, t.progress, t.message, t.config::text,
           t.result::text, t.error_message, t.priority, t.attempts, t.max_attempts, t.owner,
           t.claim_token, t.version,
           to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           to_char(t.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           to_char(t.completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           to_char(t.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           g.seq,
           to_char(g."time" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           g.message
      FROM (SELECT 'finished' AS step, u.seq FROM unnest(finished_seqs) AS u (seq)
            UNION ALL
            SELECT 'claimed', u.seq FROM unnest(claimed_seqs) AS u (seq)) AS s
      JOIN tasks AS t ON t.seq = s.seq
      LEFT JOIN LATERAL (
        SELECT l.seq, l."time", l.message FROM task_logs AS l
         WHERE s.step = 'claimed' AND l.task_id = t.id
         ORDER BY l.seq DESC LIMIT 1) AS g ON true;
END
$fn$;
`;
