// Released migration: never edit, add a new numbered file instead.
// The scheduler's hand-off, `tailor_finish_and_claim`, restated whole: migrations 4 to 7 wrote
// it and then edited it in place, so no single file showed what runs. This is that definition,
// unchanged (applying it changes nothing on a database migrated to 7) — read it here. The next
// change to the hand-off restates it whole again in a new migration, naming it by its argument
// types (the ten-argument version of migration 5 stays for nodes of older releases).
export default `
CREATE OR REPLACE FUNCTION tailor_finish_and_claim(
  finish_ids text[], finish_tokens text[], finish_statuses text[], finish_results text[],
  finish_errors text[], finish_messages text[], lanes text[], lane_tokens text[],
  claim_node text, claim_instance text, lease_ms double precision)
 RETURNS TABLE(
  step text, id text, type text, status text, progress integer, message text, config text,
  result text, error_message text, priority integer, attempts integer, max_attempts integer,
  owner text, claim_token text, version integer, created_at text, started_at text,
  completed_at text, updated_at text, log_seq integer, log_time text, log_message text)
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_generic_plan'
 SET enable_seqscan TO 'off'
 SET "tailor.inline_events" TO 'on'
AS $function$
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
             error_message = f.error, message = coalesce(f.note, t.message),
             progress = CASE WHEN f.outcome = 'completed' THEN 100 ELSE t.progress END,
             lease_expires_at = NULL, cancel_requested = false, completed_at = now(),
             updated_at = now()
        FROM unnest(finish_ids, finish_tokens, finish_statuses, finish_results, finish_errors, finish_messages)
             AS f (task_id, fence, outcome, output, error, note)
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

  -- 5. A lane freed here, not refilled and not tried here may have work for another node.
  PERFORM count(pg_notify('tailor_lane', f.lane))
     FROM unnest(freed) AS f (lane)
    WHERE f.lane <> ALL (lanes) AND NOT EXISTS (SELECT 1 FROM tasks AS t
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
$function$;
`;
