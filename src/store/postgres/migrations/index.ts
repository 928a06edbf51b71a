import tasks from './0001_tasks.js';
import generationConfigs from './0002_generation_configs.js';
import taskEvents from './0003_task_events.js';
import hotPath from './0004_hot_path.js';
import inlineEvents from './0005_inline_events.js';
import quietLanes from './0006_quiet_lanes.js';
import finishMessage from './0007_finish_message.js';
import handOffRestated from './0008_hand_off_restated.js';

/** Numbered, append-only, the same versions as the SQLite store. A released migration is never edited. */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  { version: 1, name: 'tasks', sql: tasks },
  { version: 2, name: 'generation_configs', sql: generationConfigs },
  // PostgreSQL only (cluster events); SQLite has no version 3.
  { version: 3, name: 'task_events', sql: taskEvents },
  // PostgreSQL only (the scheduler's hand-off in one call); SQLite has no version 4.
  { version: 4, name: 'hot_path', sql: hotPath },
  // PostgreSQL only (the hand-off sends its own events); SQLite has no version 5.
  { version: 5, name: 'inline_events', sql: inlineEvents },
  // PostgreSQL only (a lane a hand-off found empty is not announced); SQLite has no version 6.
  { version: 6, name: 'quiet_lanes', sql: quietLanes },
  // PostgreSQL only (the hand-off writes a finished task's final message); SQLite needs no
  // migration for that, its finish is a plain UPDATE.
  { version: 7, name: 'finish_message', sql: finishMessage },
  // PostgreSQL only: the hand-off of migrations 4–7 restated whole, as the one source to read.
  { version: 8, name: 'hand_off_restated', sql: handOffRestated },
];
