/**
 * LISTEN/NOTIFY channels shared by every node on one database: a lane with new work starts at once on every node, with no polling delay.
 * Notifications are sent inside the transaction that causes them, so they arrive only after its
 * commit, when the change they announce is visible. They are hints: a missed one costs a poll.
 */

/** Payload: a task type. A lane may have work: a task was queued or a running one ended. */
export const LANE_CHANNEL = 'tailor_lane';
/** Payload: a task id. Someone asked to stop that running task. */
export const CANCEL_CHANNEL = 'tailor_cancel';
/**
 * Payload: a compact JSON event (`cluster/events.ts` parses it), sent by triggers (migration 3) for
 * every visible change of a task or its logs, so WebSocket clients of every node see every task.
 */
export const EVENT_CHANNEL = 'tailor_event';
