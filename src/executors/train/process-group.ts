/**
 * The trainer runs as the leader of its own process group (`detached: true`), so a stop reaches
 * everything it started — accelerate's workers, dataloader processes — and nothing outlives the
 * task. A stop escalates: SIGINT (sd-scripts saves nothing and exits on KeyboardInterrupt), then
 * SIGTERM, then SIGKILL, each after a grace period in which the group may empty by itself.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import type { Readable } from 'node:stream';

export interface StopTimings {
  /** After SIGINT, how long the group may take to exit before SIGTERM. */
  interruptGraceMs: number;
  /** After SIGTERM, how long before SIGKILL. */
  terminateGraceMs: number;
}

export interface GroupExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

type Child = ChildProcessByStdio<null, Readable, Readable>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Whether any live process is in group `pgid`. On Linux it reads /proc, because a killed
 * grandchild whose parent is gone may linger as a zombie that `kill(-pgid, 0)` still counts.
 */
export function groupAlive(pgid: number): boolean {
  if (process.platform === 'linux') {
    let entries: string[];
    try {
      entries = readdirSync('/proc');
    } catch {
      entries = [];
    }
    if (entries.length) {
      for (const entry of entries) {
        if (!/^\d+$/.test(entry)) continue;
        let stat: string;
        try {
          stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        } catch {
          continue;
        }
        // "pid (comm) state ppid pgrp …" — comm may hold spaces and parentheses.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
      }
      return false;
    }
  }
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already empty.
  }
}

export class TrainerProcess {
  readonly child: Child;
  readonly exited: Promise<GroupExit>;
  private stopping: Promise<void> | null = null;

  constructor(
    command: string,
    args: readonly string[],
    options: { cwd: string; env: NodeJS.ProcessEnv },
    private readonly timings: StopTimings,
    /** Told of each signal a stop sends, so the task log shows how the trainer was ended. */
    private readonly onSignal: (signal: NodeJS.Signals) => void = () => undefined,
  ) {
    this.child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise<GroupExit>((resolve, reject) => {
      this.child.once('error', reject);
      // 'close' waits for both pipes to end too, so no output line is lost.
      this.child.once('close', (code, signal) => resolve({ code, signal }));
    });
    // Keeps the promise from being reported as unhandled when the spawn itself fails; callers
    // await `exited` and see the error there.
    this.exited.catch(() => undefined);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Stop the whole group, escalating until it is empty. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.escalate();
    return this.stopping;
  }

  /** After the leader exited: end whatever it left behind in its group. */
  reapLeftovers(): Promise<void> {
    return this.stop();
  }

  private async escalate(): Promise<void> {
    const pgid = this.child.pid;
    if (pgid === undefined) return;
    const steps: [NodeJS.Signals, number][] = [
      ['SIGINT', this.timings.interruptGraceMs],
      ['SIGTERM', this.timings.terminateGraceMs],
    ];
    for (const [signal, graceMs] of steps) {
      if (!groupAlive(pgid)) return;
      this.onSignal(signal);
      signalGroup(pgid, signal);
      const deadline = Date.now() + graceMs;
      while (Date.now() < deadline && groupAlive(pgid)) await sleep(25);
    }
    if (!groupAlive(pgid)) return;
    this.onSignal('SIGKILL');
    signalGroup(pgid, 'SIGKILL');
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && groupAlive(pgid)) await sleep(25);
  }
}
