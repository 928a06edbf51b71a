// Released migration: never edit, add a new numbered file instead.
// A hand-off announced every lane it freed and did not refill, on `tailor_lane` — also a lane it
// had just tried to claim and found empty (or held by another node). Nobody can do anything with
// such a lane, but every listener woke and asked the database again, the writing node included:
// one wasted round trip per emptied lane, in the way of the next task's claim. Now only lanes
// the call did not try to claim are announced (the caller is stopping, or does not claim them).
//
// One clause of step 5 changes, so the stored definition is edited in place rather than restated
// whole; should it not be the definition migration 5 wrote, the migration fails and changes
// nothing.
export default `
DO $migration$
DECLARE
  before TEXT := pg_get_functiondef('tailor_finish_and_claim'::regproc);
  after TEXT := before;
  old_comment CONSTANT TEXT :=
    '-- 5. A lane freed here and not refilled may have work for another node.';
  new_comment CONSTANT TEXT :=
    '-- 5. A lane freed here, not refilled and not tried here may have work for another node.';
  old_filter CONSTANT TEXT := 'WHERE NOT EXISTS (SELECT 1 FROM tasks AS t';
  new_filter CONSTANT TEXT := 'WHERE f.lane <> ALL (lanes) AND NOT EXISTS (SELECT 1 FROM tasks AS t';
BEGIN
  IF (length(before) - length(replace(before, old_comment, ''))) / length(old_comment) <> 1
     OR (length(before) - length(replace(before, old_filter, ''))) / length(old_filter) <> 1 THEN
    RAISE EXCEPTION 'tailor_finish_and_claim is not the definition of migration 5';
  END IF;
  after := replace(replace(after, old_comment, new_comment), old_filter, new_filter);
  EXECUTE after;
END
$migration$;
`;
