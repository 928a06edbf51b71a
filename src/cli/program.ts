import { readFileSync } from 'node:fs';
import type { CommanderError } from 'commander';
import { Command, InvalidArgumentError, Option } from 'commander';
import WebSocket from 'ws';
import {
  TailorApiError,
  TailorClient,
  TailorUnreachableError,
  type SocketFactory,
  type Task,
} from '../client/index.js';
import {
  CORE_SETTINGS,
  ConfigError,
  flagOf,
  loadConfig,
  type ConfigInput,
  type TailorConfig,
} from '../config/config.js';
import type { CliContext, ExecutorModule } from '../executors/module.js';
import { createLogger, resolveLogFormat } from '../logging.js';
import { checkModules, moduleSettings, startServer, VERSION } from '../server.js';
import { formatTask, formatTaskTable } from './format.js';
import { resolveServerTarget } from './target.js';
import { EXIT, exitCodeOf, formatLogLine, watchTask, type WatchEnd } from './watch.js';
import { integerArg as integer } from '../executors/cli-args.js';

/** A mistake in how the command was called: exit code 2, like commander's own usage errors. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const EXIT_CODES_HELP = `
Exit codes:
  0  success; with --wait/--watch, logs --follow and watch <id>: the task completed
  1  an error, or the task failed (or was deleted while watched)
  2  usage: a bad option or argument (serve: a bad setting; nothing is created)
  3  the task was cancelled
  4  the server could not be reached

Client commands find the server at --url, else TAILOR_URL, else TAILOR_HOST/TAILOR_PORT,
else host/port of the config file (--config or TAILOR_CONFIG), else http://127.0.0.1:50052.
The token comes from --token, else TAILOR_TOKEN, else the config file.`;

/**
 * The `tailor` command: the server (`serve`), the client commands, and each module's own commands
 * and settings. Built for a list of modules so that a module's parts appear without edits here.
 */
export function buildProgram(modules: readonly ExecutorModule[]): Command {
  const program = new Command('tailor')
    .description('PixivTailor task manager: server and client')
    .version(VERSION)
    // Options of the program go before the command: `create --config` is the task's config,
    // `tailor --config file.json create …` the file that says where the server is.
    .enablePositionalOptions()
    .option('--url <url>', 'server URL for client commands (env TAILOR_URL)')
    .option('--token <token>', 'bearer token for client commands (env TAILOR_TOKEN)')
    .option('--config <file>', "a server config file to read the server's host, port, token from")
    .option('--json', 'print raw JSON')
    .addHelpText('after', EXIT_CODES_HELP)
    // Usage errors exit 2 (commander's default is 1, which here means "the task failed").
    .exitOverride((error: CommanderError) => {
      process.exit(error.exitCode === 0 ? 0 : EXIT.usage);
    });

  const serve = program
    .command('serve')
    .description(
      'run the server. Each setting comes from its flag, else its env var, else the JSON config ' +
        'file (keys as the flags, in camelCase), else its default',
    )
    .option('--config <file>', 'JSON config file (env TAILOR_CONFIG)');
  // One option per setting of the table, so a setting has a flag exactly when it has an env var.
  const settings = [...CORE_SETTINGS, ...moduleSettings(modules)];
  for (const spec of settings) {
    serve.addOption(
      new Option(
        `${flagOf(spec)} ${spec.arg}`,
        `${spec.description}${spec.secret ? ' — secret: prefer the env var, a flag shows in ps' : ''} (env ${spec.env}${spec.defaultText === '—' ? '' : `, default ${spec.defaultText}`})`,
      ),
    );
  }
  serve.action(async (options: Record<string, string | undefined>) => {
    const globals = program.opts<{ token?: string; config?: string }>();
    const flags: ConfigInput = {};
    for (const spec of settings) flags[spec.key] = options[spec.key];
    flags.token ??= globals.token;
    let config: TailorConfig;
    try {
      config = loadConfig(
        flags,
        process.env,
        options.config ?? globals.config,
        moduleSettings(modules),
      );
      checkModules(config, modules);
    } catch (error) {
      if (error instanceof ConfigError) {
        console.error(`tailor: ${error.message}`);
        process.exit(EXIT.usage);
      }
      throw error;
    }
    const logger = createLogger(
      config.logLevel,
      process.stdout,
      resolveLogFormat(config.logFormat),
    );
    const server = await startServer({ config, logger, modules });
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

  /** `--url`, `--token`, `--json` as given to the command running now, else to the program. */
  let commandOptions: { url?: string; token?: string; json?: boolean } = {};

  function client(): TailorClient {
    // `--config` is only the program's: after `create` it is the task's config, not a file.
    const target = resolveServerTarget(
      { ...commandOptions, config: program.opts<{ config?: string }>().config },
      process.env,
    );
    return new TailorClient({
      baseUrl: target.url,
      token: target.token,
      WebSocket: WebSocket as unknown as SocketFactory,
    });
  }

  const json = (): boolean => Boolean(commandOptions.json);
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
    .action(
      async (o: { status?: Task['status']; type?: string; page: number; pageSize: number }) => {
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
      },
    );

  program
    .command('create <type>')
    .description('create a task; --config takes JSON or @file.json')
    .requiredOption('--config <json>', 'task config (JSON or @path)')
    .option('--priority <n>', 'higher runs first within its lane', integer)
    .option('--max-attempts <n>', 'automatic re-runs after a crash', integer)
    .option('--wait', 'wait until the task ends; the exit code says how (see below)')
    .option('--watch', 'show its progress and log until it ends; the exit code says how')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(
      async (
        type: string,
        o: {
          config: string;
          priority?: number;
          maxAttempts?: number;
          wait?: boolean;
          watch?: boolean;
        },
      ) => {
        const text = o.config.startsWith('@') ? readFileSync(o.config.slice(1), 'utf8') : o.config;
        let config: Record<string, unknown>;
        try {
          config = JSON.parse(text) as Record<string, unknown>;
        } catch (error) {
          throw new UsageError(`--config is not JSON: ${(error as Error).message}`);
        }
        const api = client();
        const task = await api.createTask(type, config, {
          ...(o.priority !== undefined ? { priority: o.priority } : {}),
          ...(o.maxAttempts !== undefined ? { max_attempts: o.maxAttempts } : {}),
        });
        if (!o.wait && !o.watch) {
          printTask(task);
          return;
        }
        if (!json()) console.log(`created ${task.id} (${task.type})`);
        await followToExit(api, task.id, o.watch ? 'watch' : 'wait');
      },
    );

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
        throw new UsageError('kind must be completed, failed, cancelled or all');
      const data = await client().cleanup(kind as 'all');
      print(data, () => `cleaned ${data.cleaned_count} ${data.cleanup_type} task(s)`);
    });
  program
    .command('logs <id>')
    .description("print a task's log; --follow streams new lines until it ends")
    .option('-f, --follow', 'keep streaming until the task ends; the exit code says how')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (id: string, o: { follow?: boolean }) => {
      const api = client();
      if (o.follow) {
        await followToExit(api, id, 'logs');
        return;
      }
      let after = 0;
      for (;;) {
        const { logs } = await api.getLogs(id, { after_seq: after, limit: 1000 });
        for (const line of logs) console.log(json() ? JSON.stringify(line) : formatLogLine(line));
        if (logs.length) after = logs[logs.length - 1]!.seq;
        if (logs.length < 1000) break;
      }
    });
  program
    .command('watch [id]')
    .description(
      'follow one task until it ends (a progress bar on a terminal, plain lines otherwise, ' +
        'JSON lines with --json); without an id, stream every event as JSON lines',
    )
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (id?: string) => {
      const api = client();
      if (id) {
        await followToExit(api, id, 'watch');
        return;
      }
      const feed = await api.connect();
      feed.onMessage((message) => console.log(JSON.stringify(message)));
      feed.subscribeAll();
      await new Promise<void>((resolve) => feed.onClose(resolve));
    });

  /**
   * Follow a task to its end and exit with the code for how it ended. `wait` prints only the end,
   * `logs` the log lines, `watch` the live view (`--json`: JSON lines).
   */
  async function followToExit(
    api: TailorClient,
    id: string,
    mode: 'wait' | 'logs' | 'watch',
  ): Promise<never> {
    const end: WatchEnd = await watchTask(api, id, {
      output: json() ? 'json' : mode === 'wait' ? 'quiet' : mode === 'logs' ? 'logs' : 'auto',
      history: mode !== 'wait',
    });
    if (mode === 'wait') {
      const task = end === 'deleted' ? null : await api.getTask(id);
      if (json()) console.log(JSON.stringify(task ?? { task_id: id, deleted: true }, null, 2));
      else console.log(task ? formatTask(task) : `-- task ${id} was deleted`);
    }
    process.exit(exitCodeOf(end));
  }

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

  // Each module's own commands (`tailor generate`, `tailor crawl`…).
  const cli: CliContext = {
    client,
    json,
    printTask,
    watch: (taskId) =>
      watchTask(client(), taskId, { output: json() ? 'json' : 'auto', history: true }),
    exitCodeOf,
  };
  for (const module of modules) module.cli(program, cli);

  // Client commands also take --url, --token and --json after their name (`tailor list --json`).
  for (const command of program.commands) {
    if (command.name() === 'serve') continue;
    command
      .option('--url <url>', 'server URL (env TAILOR_URL)')
      .option('--token <token>', 'bearer token (env TAILOR_TOKEN)')
      .option('--json', 'print raw JSON');
  }
  program.hook('preAction', (_program, action) => {
    const { url, token, json } = action.optsWithGlobals<{
      url?: string;
      token?: string;
      json?: boolean;
    }>();
    commandOptions = { url, token, json };
  });
  return program;
}

/** Print a command's failure and exit with its code. */
export function exitOnError(error: unknown): never {
  if (error instanceof TailorUnreachableError) {
    console.error(`tailor: ${error.message} — is the server running? set TAILOR_URL or --url`);
    process.exit(EXIT.unreachable);
  }
  if (error instanceof TailorApiError) {
    console.error(`tailor: ${error.message} (code ${error.code})`);
    process.exit(EXIT.failed);
  }
  if (
    error instanceof UsageError ||
    error instanceof InvalidArgumentError ||
    error instanceof ConfigError
  ) {
    console.error(`tailor: ${error.message}`);
    process.exit(EXIT.usage);
  }
  console.error(`tailor: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(EXIT.failed);
}
