#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import WebSocket from 'ws';
import { TailorApiError, TailorClient, type SocketFactory, type Task } from '../client/index.js';
import { ConfigError, loadConfig, type ConfigInput } from '../config/config.js';
import { builtInModules } from '../executors/index.js';
import type { CliContext } from '../executors/module.js';
import { moduleSettings, startServer, VERSION } from '../server.js';
import { formatTask, formatTaskTable } from './format.js';

const program = new Command('tailor')
  .description('PixivTailor task manager: server and client')
  .version(VERSION)
  .option(
    '--url <url>',
    'server URL for client commands (env TAILOR_URL)',
    process.env.TAILOR_URL ?? 'http://127.0.0.1:50052',
  )
  .option('--token <token>', 'bearer token for client commands (env TAILOR_TOKEN)')
  .option('--json', 'print raw JSON');

const integer = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('must be an integer');
  return n;
};

program
  .command('serve')
  .description('run the server (flags override env vars, which override the config file)')
  .option('--host <host>', 'bind address (TAILOR_HOST, default 127.0.0.1)')
  .option('--port <port>', 'port (TAILOR_PORT, default 50052)', integer)
  .option('--data-dir <dir>', 'data directory (TAILOR_DATA_DIR, default ./data)')
  .option('--db <db>', 'SQLite file or postgres:// URL (TAILOR_DB)')
  .option('--config <file>', 'JSON config file (TAILOR_CONFIG)')
  .option('--node-id <id>', 'stable node name in a cluster (TAILOR_NODE_ID)')
  .option('--executors <types>', 'comma-separated task types this node runs (TAILOR_EXECUTORS)')
  .option('--log-level <level>', 'pino log level (TAILOR_LOG_LEVEL)')
  .action(async (options: Record<string, string | number | undefined>) => {
    const flags: ConfigInput = {
      host: options.host,
      port: options.port,
      dataDir: options.dataDir,
      db: options.db,
      nodeId: options.nodeId,
      executors: options.executors,
      logLevel: options.logLevel,
    };
    let server;
    try {
      server = await startServer({
        config: loadConfig(
          flags,
          process.env,
          options.config as string | undefined,
          moduleSettings(builtInModules),
        ),
      });
    } catch (error) {
      if (error instanceof ConfigError) {
        console.error(`tailor: ${error.message}`);
        process.exit(2);
      }
      throw error;
    }
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      server.app.log.info({ signal }, 'shutting down: running tasks are requeued');
      server.close().then(
        () => process.exit(0),
        (error: unknown) => {
          console.error(error);
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });

function client(): TailorClient {
  const opts = program.opts<{ url: string; token?: string }>();
  return new TailorClient({
    baseUrl: opts.url,
    token: opts.token ?? process.env.TAILOR_TOKEN ?? null,
    WebSocket: WebSocket as unknown as SocketFactory,
  });
}

const json = (): boolean => Boolean(program.opts<{ json?: boolean }>().json);
const print = (value: unknown, human: () => string): void => {
  console.log(json() ? JSON.stringify(value, null, 2) : human());
};
const printTask = (task: Task): void => print(task, () => formatTask(task));

program
  .command('list')
  .description('list tasks, newest first')
  .addOption(
    new Option('--status <status>').choices([
      'pending',
      'running',
      'completed',
      'failed',
      'cancelled',
    ]),
  )
  .option('--type <type>')
  .option('--page <n>', 'page', integer, 1)
  .option('--page-size <n>', 'page size (≤ 100)', integer, 20)
  .action(async (o: { status?: Task['status']; type?: string; page: number; pageSize: number }) => {
    const data = await client().getTasks({
      status: o.status,
      type: o.type,
      page: o.page,
      page_size: o.pageSize,
    });
    print(
      data,
      () => `${formatTaskTable(data.tasks)}\n${data.tasks.length} of ${data.pagination.total}`,
    );
  });

program
  .command('create <type>')
  .description('create a task; --config takes JSON or @file.json')
  .requiredOption('--config <json>', 'task config (JSON or @path)')
  .option('--priority <n>', 'higher runs first within its lane', integer)
  .option('--max-attempts <n>', 'automatic re-runs after a crash', integer)
  .action(async (type: string, o: { config: string; priority?: number; maxAttempts?: number }) => {
    const text = o.config.startsWith('@') ? readFileSync(o.config.slice(1), 'utf8') : o.config;
    let config: Record<string, unknown>;
    try {
      config = JSON.parse(text) as Record<string, unknown>;
    } catch (error) {
      throw new InvalidArgumentError(`--config is not JSON: ${(error as Error).message}`);
    }
    printTask(
      await client().createTask(type, config, {
        ...(o.priority !== undefined ? { priority: o.priority } : {}),
        ...(o.maxAttempts !== undefined ? { max_attempts: o.maxAttempts } : {}),
      }),
    );
  });

program
  .command('show <id>')
  .description('one task')
  .action(async (id: string) => printTask(await client().getTask(id)));
program
  .command('status <id>')
  .description('status of one task')
  .action(async (id: string) => {
    const s = await client().getStatus(id);
    print(
      s,
      () =>
        `${s.task_id}  ${s.status}  ${s.progress}%  ${s.message}${s.error_message ? `\n  error: ${s.error_message}` : ''}`,
    );
  });
program
  .command('start <id>')
  .description('re-run a finished task')
  .action(async (id: string) => printTask(await client().startTask(id)));
program
  .command('stop <id>')
  .description('stop a running task')
  .action(async (id: string) => printTask(await client().stopTask(id)));
program
  .command('cancel <id>')
  .description('cancel a pending or running task')
  .action(async (id: string) => printTask(await client().cancelTask(id)));
program
  .command('delete <id>')
  .description('delete a task (a running one is stopped first)')
  .option('--files', "also delete the task's output folder")
  .action(async (id: string, o: { files?: boolean }) => {
    const data = await client().deleteTask(id, { deleteFiles: Boolean(o.files) });
    print(data, () => `deleted ${data.task_id}`);
  });
program
  .command('cleanup <kind>')
  .description(
    'delete finished tasks: completed | failed | cancelled | all (never pending or running)',
  )
  .action(async (kind: string) => {
    if (!['completed', 'failed', 'cancelled', 'all'].includes(kind))
      throw new InvalidArgumentError('kind must be completed, failed, cancelled or all');
    const data = await client().cleanup(kind as 'all');
    print(data, () => `cleaned ${data.cleaned_count} ${data.cleanup_type} task(s)`);
  });
program
  .command('logs <id>')
  .description("print a task's log; --follow streams new lines until it ends")
  .option('-f, --follow', 'keep streaming')
  .action(async (id: string, o: { follow?: boolean }) => {
    const api = client();
    let after = 0;
    for (;;) {
      const { logs } = await api.getLogs(id, { after_seq: after, limit: 1000 });
      for (const line of logs)
        console.log(
          json() ? JSON.stringify(line) : `${line.time} ${line.level.padEnd(5)} ${line.message}`,
        );
      if (logs.length) after = logs[logs.length - 1]!.seq;
      if (logs.length < 1000) break;
    }
    if (!o.follow) return;
    const feed = await api.connect();
    feed.onMessage((message) => {
      if (message.type === 'task_log' && message.task_id === id && message.seq > after) {
        after = message.seq;
        console.log(
          json()
            ? JSON.stringify(message)
            : `${message.time} ${message.level.padEnd(5)} ${message.message}`,
        );
      }
      if (
        message.type === 'task_status' &&
        message.task_id === id &&
        ['completed', 'failed', 'cancelled'].includes(message.status)
      ) {
        console.log(
          `-- ${message.status}${message.error_message ? `: ${message.error_message}` : ''}`,
        );
        feed.close();
      }
      if (message.type === 'task_deleted' && message.task_id === id) feed.close();
    });
    feed.subscribeTask(id);
    await new Promise<void>((resolve) => feed.onClose(resolve));
  });
program
  .command('watch [id]')
  .description('stream live events of one task, or of all tasks')
  .action(async (id?: string) => {
    const feed = await client().connect();
    feed.onMessage((message) => console.log(JSON.stringify(message)));
    if (id) feed.subscribeTask(id);
    else feed.subscribeAll();
    await new Promise<void>((resolve) => feed.onClose(resolve));
  });
program
  .command('types')
  .description('registered task types')
  .action(async () => {
    const data = await client().getTaskTypes();
    print(data, () =>
      data.types
        .map(
          (t) =>
            `${t.type.padEnd(10)} ${t.runnable ? 'runs here' : 'other nodes'}  ${t.description}`,
        )
        .join('\n'),
    );
  });

/** Exit codes of commands that follow a task: 0 completed, 1 failed, 3 cancelled. */
const exitCodeOf = (status: Task['status']): number =>
  status === 'completed' ? 0 : status === 'cancelled' ? 3 : 1;

/** Follow one task until it ends; resolves to its terminal status. */
async function watchTask(id: string): Promise<Task['status']> {
  const feed = await client().connect();
  return new Promise((resolve, reject) => {
    let last = '';
    feed.onMessage((message) => {
      if (json()) console.log(JSON.stringify(message));
      if (message.type === 'task_log' && message.task_id === id && !json())
        console.log(`${message.time} ${message.level.padEnd(5)} ${message.message}`);
      if (message.type === 'task_status' && message.task_id === id) {
        const line = `${message.status} ${message.progress}% ${message.message}`;
        if (!json() && line !== last) console.log(line);
        last = line;
        if (['completed', 'failed', 'cancelled'].includes(message.status)) {
          if (!json() && message.error_message) console.log(`error: ${message.error_message}`);
          feed.close();
          resolve(message.status);
        }
      }
      if (message.type === 'task_deleted' && message.task_id === id) {
        feed.close();
        reject(new Error(`task ${id} was deleted`));
      }
    });
    feed.subscribeTask(id);
  });
}

const cliContext: CliContext = {
  client,
  json,
  printTask,
  watch: watchTask,
  exitCodeOf,
};
for (const module of builtInModules) module.cli(program, cliContext);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof TailorApiError) {
    console.error(`tailor: ${error.message} (code ${error.code})`);
    process.exit(1);
  }
  console.error(`tailor: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
