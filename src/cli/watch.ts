import cliProgress from 'cli-progress';
import type { ServerMessage, TailorClient, TaskLog, TerminalStatus } from '../client/index.js';

/** How a watched task ended: its terminal status, or `deleted` when it vanished meanwhile. */
export type WatchEnd = TerminalStatus | 'deleted';

/**
 * - `tty`: a live progress bar with the task's message and ETA, log lines printed above it;
 * - `plain`: one line per log line and per change of status or message (pipes, CI logs);
 * - `json`: every WebSocket message as one JSON line, for machines;
 * - `logs`: log lines only, then one closing line (`tailor logs --follow`);
 * - `quiet`: nothing (`--wait`: the caller prints the outcome).
 */
export type WatchOutput = 'tty' | 'plain' | 'json' | 'logs' | 'quiet';

export interface WatchOptions {
  /** `auto`: `tty` when the stream is a terminal, else `plain`. */
  output?: WatchOutput | 'auto';
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Print the log lines stored before the watch began (default true). */
  history?: boolean;
}

/** The exit code for a watched task's end (documented in `tailor --help` and the README). */
export const EXIT = {
  completed: 0,
  failed: 1,
  usage: 2,
  cancelled: 3,
  unreachable: 4,
} as const;

export function exitCodeOf(end: WatchEnd): number {
  if (end === 'completed') return EXIT.completed;
  if (end === 'cancelled') return EXIT.cancelled;
  return EXIT.failed;
}

const TERMINAL: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled']);

type StatusMessage = Extract<ServerMessage, { type: 'task_status' }>;

/**
 * Follow one task until it ends and return how it ended, for the caller to map to an exit code.
 * Subscribes before reading the stored log, so no line falls between the two; lines arriving
 * meanwhile are held and printed after the stored ones, each sequence number once. The server
 * sends every log line of a task before its terminal status, so the end comes after the last line.
 */
export async function watchTask(
  client: TailorClient,
  taskId: string,
  options: WatchOptions = {},
): Promise<WatchEnd> {
  const stream = options.stream ?? process.stdout;
  const output =
    !options.output || options.output === 'auto'
      ? stream.isTTY === true
        ? 'tty'
        : 'plain'
      : options.output;
  const view = createView(output, stream, taskId);
  const feed = await client.connect();
  try {
    return await new Promise<WatchEnd>((resolve, reject) => {
      let lastSeq = 0;
      let ready = false;
      let ended = false;
      const held: ServerMessage[] = [];
      const end = (how: WatchEnd): void => {
        if (ended) return;
        ended = true;
        view.end(how);
        resolve(how);
      };
      const handle = (message: ServerMessage): void => {
        if (ended) return;
        if (message.type === 'task_log' && message.task_id === taskId) {
          if (message.seq <= lastSeq) return;
          lastSeq = message.seq;
          view.log(message, message);
        } else if (message.type === 'task_status' && message.task_id === taskId) {
          view.status(message);
          if (TERMINAL.has(message.status)) end(message.status as TerminalStatus);
        } else if (message.type === 'task_deleted' && message.task_id === taskId) {
          view.raw(message);
          end('deleted');
        } else if (message.type === 'error') {
          view.raw(message);
        }
      };
      feed.onMessage((message) => {
        if (ready) handle(message);
        else held.push(message);
      });
      feed.onClose(() => {
        if (!ended) {
          view.end(null);
          reject(
            new Error(`the connection to ${client.baseUrl} closed before task ${taskId} ended`),
          );
        }
      });
      feed.subscribeTask(taskId);
      const history = options.history === false ? Promise.resolve() : printStoredLogs();
      history.then(
        () => {
          ready = true;
          for (const message of held.splice(0)) handle(message);
        },
        (error: unknown) => {
          view.end(null);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );

      async function printStoredLogs(): Promise<void> {
        for (;;) {
          const { logs } = await client.getLogs(taskId, { after_seq: lastSeq, limit: 1000 });
          for (const line of logs) {
            lastSeq = line.seq;
            view.log(line, { type: 'task_log', ...line });
          }
          if (logs.length < 1000) return;
        }
      }
    });
  } finally {
    feed.close();
  }
}

interface View {
  log(line: TaskLog, message: ServerMessage): void;
  status(message: StatusMessage): void;
  raw(message: ServerMessage): void;
  /** null: the watch broke off (the caller reports why). */
  end(how: WatchEnd | null): void;
}

export function formatLogLine(line: TaskLog): string {
  return `${line.time} ${line.level.padEnd(5)} ${line.message}`;
}

function endLine(message: StatusMessage): string {
  return `-- ${message.status}${message.message ? `: ${message.message}` : ''}${
    message.error_message && !message.message.includes(message.error_message)
      ? ` (${message.error_message})`
      : ''
  }`;
}

function createView(output: WatchOutput, stream: NodeJS.WritableStream, taskId: string): View {
  const write = (line: string): void => {
    stream.write(`${line}\n`);
  };
  let last: StatusMessage | null = null;
  switch (output) {
    case 'quiet':
      return { log() {}, status() {}, raw() {}, end() {} };
    case 'json':
      return {
        log: (_line, message) => write(JSON.stringify(message)),
        status: (message) => write(JSON.stringify(message)),
        raw: (message) => write(JSON.stringify(message)),
        end() {},
      };
    case 'logs':
      return {
        log: (line) => write(formatLogLine(line)),
        status: (message) => {
          last = message;
        },
        raw() {},
        end(how) {
          if (how === 'deleted') write(`-- task ${taskId} was deleted`);
          else if (how && last) write(endLine(last));
        },
      };
    case 'plain':
      return {
        log: (line) => write(formatLogLine(line)),
        status(message) {
          // One line per change a reader cares about, not per coalesced progress tick.
          if (last?.status === message.status && last.message === message.message) return;
          last = message;
          if (TERMINAL.has(message.status)) return;
          write(
            `[${String(message.progress).padStart(3)}%] ${message.status}${message.message ? `: ${message.message}` : ''}`,
          );
        },
        raw() {},
        end(how) {
          if (how === 'deleted') write(`-- task ${taskId} was deleted`);
          else if (how && last) write(endLine(last));
        },
      };
    case 'tty': {
      const bars = new cliProgress.MultiBar(
        {
          stream,
          format: ' {bar} {percentage}% | {status} | eta {eta_formatted} | {message}',
          hideCursor: true,
          clearOnComplete: false,
          stopOnComplete: false,
          etaBuffer: 20,
          autopadding: true,
          forceRedraw: true,
        },
        cliProgress.Presets.shades_classic,
      );
      const bar = bars.create(100, 0, { status: 'waiting', message: '' });
      let stopped = false;
      const stop = (): void => {
        if (stopped) return;
        stopped = true;
        bars.stop();
      };
      return {
        log: (line) => bars.log(`${formatLogLine(line)}\n`),
        status(message) {
          last = message;
          bar.update(message.progress, { status: message.status, message: message.message });
        },
        raw() {},
        end(how) {
          stop();
          if (how === 'deleted') write(`-- task ${taskId} was deleted`);
          else if (how && last) write(endLine(last));
        },
      };
    }
  }
}
