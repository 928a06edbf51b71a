// Released migration: never edit, add a new numbered file instead.
// Cluster events (the WebSocket events, across nodes): every visible change of a task or its logs sends a compact
// NOTIFY on `tailor_event` from inside the transaction that makes it. Triggers rather than one
// pg_notify per query so no write path can forget it, and NOTIFY because PostgreSQL delivers
// notifications in commit order: listeners on other nodes see one task's changes in order.
// Payloads stay far below NOTIFY's 8000-byte limit and never carry config or result. `n` is the
// origin (the `tailor.origin` setting of the writing connection) so a node skips its own events.
// A statement touching more than 10,000 rows (a bulk import or purge) announces nothing.
export default `
CREATE FUNCTION tailor_task_event(kind TEXT, t tasks) RETURNS TEXT LANGUAGE sql STABLE AS $fn$
  SELECT CASE WHEN octet_length(full_payload) <= 7900 THEN full_payload ELSE json_build_object(
           'k', kind, 's', current_schema(), 'n', coalesce(current_setting('tailor.origin', true), ''),
           'id', t.id, 't', t.type, 'v', t.version)::text END
    FROM (SELECT json_build_object(
           'k', kind, 's', current_schema(), 'n', coalesce(current_setting('tailor.origin', true), ''),
           'id', t.id, 't', t.type, 'v', t.version, 'st', t.status, 'p', t.progress,
           'm', left(t.message, 1000), 'e', left(t.error_message, 2000), 'a', t.attempts,
           'sa', to_char(t.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'ca', to_char(t.completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'ua', to_char(t.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text
           AS full_payload) AS p
$fn$;

CREATE FUNCTION tailor_tasks_inserted() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF (SELECT count(*) FROM added) <= 10000 THEN
    PERFORM pg_notify('tailor_event', tailor_task_event('c', a)) FROM (SELECT * FROM added ORDER BY seq) AS a;
  END IF;
  RETURN NULL;
END $fn$;

CREATE FUNCTION tailor_tasks_updated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF (SELECT count(*) FROM after_update) <= 10000 THEN
    PERFORM pg_notify('tailor_event', tailor_task_event('s', a))
       FROM (SELECT n.* FROM after_update AS n JOIN before_update AS o ON o.seq = n.seq
              WHERE o.version IS DISTINCT FROM n.version ORDER BY n.seq) AS a;
  END IF;
  RETURN NULL;
END $fn$;

CREATE FUNCTION tailor_tasks_deleted() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF (SELECT count(*) FROM removed) <= 10000 THEN
    PERFORM pg_notify('tailor_event', json_build_object(
              'k', 'd', 's', current_schema(), 'n', coalesce(current_setting('tailor.origin', true), ''),
              'id', r.id, 't', r.type)::text)
       FROM (SELECT id, type FROM removed ORDER BY seq) AS r;
  END IF;
  RETURN NULL;
END $fn$;

-- Log lines: one notification per task and statement, naming the range of new seqs.
CREATE FUNCTION tailor_logs_inserted() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM pg_notify('tailor_event', json_build_object(
            'k', 'l', 's', current_schema(), 'n', coalesce(current_setting('tailor.origin', true), ''),
            'id', l.task_id, 'a', l.first_seq, 'b', l.last_seq)::text)
     FROM (SELECT task_id, min(seq) AS first_seq, max(seq) AS last_seq FROM added GROUP BY task_id) AS l;
  RETURN NULL;
END $fn$;

CREATE TRIGGER tasks_inserted_event AFTER INSERT ON tasks
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION tailor_tasks_inserted();
CREATE TRIGGER tasks_updated_event AFTER UPDATE ON tasks
  REFERENCING OLD TABLE AS before_update NEW TABLE AS after_update
  FOR EACH STATEMENT EXECUTE FUNCTION tailor_tasks_updated();
CREATE TRIGGER tasks_deleted_event AFTER DELETE ON tasks
  REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION tailor_tasks_deleted();
CREATE TRIGGER task_logs_inserted_event AFTER INSERT ON task_logs
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION tailor_logs_inserted();
`;
