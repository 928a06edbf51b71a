/**
 * LISTEN/NOTIFY channels shared by every node on one database (SPEC §3 "start immediately").
 * Notifications are sent inside the transaction that causes them, so they arrive only after its
 * commit, when the change they announce is visible. They are hints: a missed one costs a poll.
 */

/** Payload: a task type. A lane may have work: a task was queued or a running one ended. */
export const LANE_CHANNEL = 'tailor_lane';
/** Payload: a task id. Someone asked to stop that running task. */
export const CANCEL_CHANNEL = 'tailor_cancel';
