// Released migration: never edit, add a new numbered file instead.
// A finished task kept its last progress line as its message ("step 36/60 · eta 13 s" on a task
// that was cancelled, "waiting for SD WebUI" on one that failed). The hand-off now takes one more
// array, the final message of each finish (null keeps the last one), and writes it with the
// status.
//
// Three clauses of step 1 and the argument list change, so the stored definition is edited in
// place rather than restated whole; should it not be the definition migrations 5 and 6 wrote, the
// migration fails and changes nothing. The ten-argument version stays: a node of the previous
// release, still running during a rolling upgrade, keeps calling it. From here on a migration
// must name the function by its argument types, its name alone is ambiguous.
export default `
DO $migration$
DECLARE
  before TEXT := pg_get_functiondef('tailor_finish_and_claim'::regproc);
  after TEXT := before;
  edits CONSTANT TEXT[][] := ARRAY[
    ARRAY['finish_errors text[], lanes text[]',
          'finish_errors text[], finish_messages text[], lanes text[]'],
    ARRAY['error_message = f.error,',
          'error_message = f.error, message = coalesce(f.note, t.message),'],
    ARRAY['finish_results, finish_errors)',
          'finish_results, finish_errors, finish_messages)'],
    ARRAY['AS f (task_id, fence, outcome, output, error)',
          'AS f (task_id, fence, outcome, output, error, note)']];
  i INTEGER;
BEGIN
  FOR i IN 1 .. array_length(edits, 1) LOOP
    IF (length(before) - length(replace(before, edits[i][1], ''))) / length(edits[i][1]) <> 1 THEN
      RAISE EXCEPTION 'tailor_finish_and_claim is not the definition of migrations 5 and 6 (%)',
        edits[i][1];
    END IF;
    after := replace(after, edits[i][1], edits[i][2]);
  END LOOP;
  EXECUTE after;
END
$migration$;
`;
