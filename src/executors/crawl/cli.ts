/**
 * `tailor crawl tag "風景" --limit 70 --order date_d`, `tailor crawl user 123`,
 * `tailor crawl illust 456`, `tailor crawl ranking --mode daily`: each queues a crawl task through
 * `POST /api/crawl/create`, with the common options and `--watch`.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { Task } from '../../client/index.js';
import type { CliContext } from '../module.js';
import {
  RANKING_CONTENTS,
  RANKING_MODES,
  SEARCH_MODES,
  SEARCH_ORDERS,
  TAG_MATCHES,
  UGOIRA_OUTPUTS,
} from './schema.js';
import { integerArg as integer, numberArg as number } from '../cli-args.js';

interface CommonOptions {
  limit?: number;
  maxImages?: number;
  delay?: number;
  cookie?: string;
  proxy?: string;
  manga?: boolean;
  minBookmarks?: number;
  excludeAi?: boolean;
  ugoira?: string;
  outputDir?: string;
  priority?: number;
  watch?: boolean;
}

const oneOf =
  (values: readonly string[]) =>
  (value: string): string => {
    if (!values.includes(value)) throw new InvalidArgumentError(`one of ${values.join(', ')}`);
    return value;
  };

function withCommonOptions(command: Command): Command {
  return command
    .option('--limit <n>', 'artworks to keep, each with every page (default 100)', integer)
    .option('--max-images <n>', 'stop after this many files', integer)
    .option('--delay <seconds>', 'seconds between two requests to Pixiv (default 1)', number)
    .option('--cookie <cookie>', 'Pixiv cookie for this task ("default" = PIXIV_COOKIE)')
    .option('--proxy <url>', 'proxy for this task only')
    .option('--no-manga', 'leave out manga works')
    .option('--min-bookmarks <n>', 'leave out works with fewer bookmarks', integer)
    .option('--exclude-ai', 'leave out AI-generated works')
    .option('--ugoira <format>', 'ugoira: zip, or also an animated webp/gif', oneOf(UGOIRA_OUTPUTS))
    .option('--output-dir <dir>', 'dataset folder (under the data dir or TAILOR_IMAGE_ROOTS)')
    .option('--priority <n>', 'higher runs first within its lane', integer)
    .option(
      '--watch',
      'follow the task until it ends (exit code: 0 completed, 1 failed, 3 cancelled)',
    );
}

function commonFields(o: CommonOptions): Record<string, unknown> {
  return {
    ...(o.limit !== undefined ? { limit: o.limit } : {}),
    ...(o.maxImages !== undefined ? { max_images: o.maxImages } : {}),
    ...(o.delay !== undefined ? { delay: o.delay } : {}),
    ...(o.cookie !== undefined ? { cookie: o.cookie } : {}),
    ...(o.proxy !== undefined ? { proxy_url: o.proxy } : {}),
    ...(o.manga === false ? { include_manga: false } : {}),
    ...(o.minBookmarks !== undefined ? { min_bookmarks: o.minBookmarks } : {}),
    ...(o.excludeAi ? { exclude_ai: true } : {}),
    ...(o.ugoira !== undefined ? { ugoira: o.ugoira } : {}),
    ...(o.outputDir !== undefined ? { output_dir: o.outputDir } : {}),
    ...(o.priority !== undefined ? { priority: o.priority } : {}),
  };
}

async function queue(
  cli: CliContext,
  body: Record<string, unknown>,
  watch: boolean | undefined,
): Promise<void> {
  const task = await cli.client().call<Task>('/api/crawl/create', body);
  cli.printTask(task);
  if (watch) process.exitCode = cli.exitCodeOf(await cli.watch(task.id));
}

export function crawlCli(program: Command, cli: CliContext): void {
  const crawl = program.command('crawl').description('queue a Pixiv crawl');

  withCommonOptions(
    crawl
      .command('tag <tags...>')
      .description('works tagged with every given tag (AND)')
      .option('--order <order>', `${SEARCH_ORDERS.join(' | ')}`, oneOf(SEARCH_ORDERS))
      .option('--mode <mode>', `${SEARCH_MODES.join(' | ')}`, oneOf(SEARCH_MODES))
      .option('--search-mode <match>', `${TAG_MATCHES.join(' | ')}`, oneOf(TAG_MATCHES)),
  ).action(
    async (
      tags: string[],
      o: CommonOptions & { order?: string; mode?: string; searchMode?: string },
    ) => {
      await queue(
        cli,
        {
          crawl_type: 'tag',
          query: tags.join(' '),
          ...(o.order !== undefined ? { order: o.order } : {}),
          ...(o.mode !== undefined ? { mode: o.mode } : {}),
          ...(o.searchMode !== undefined ? { search_mode: o.searchMode } : {}),
          ...commonFields(o),
        },
        o.watch,
      );
    },
  );

  withCommonOptions(
    crawl.command('user <user_id>').description("a user's works, newest first"),
  ).action(async (userId: string, o: CommonOptions) => {
    await queue(cli, { crawl_type: 'user', user_id: userId, ...commonFields(o) }, o.watch);
  });

  withCommonOptions(crawl.command('illust <illust_id>').description('one artwork')).action(
    async (illustId: string, o: CommonOptions) => {
      await queue(cli, { crawl_type: 'illust', illust_id: illustId, ...commonFields(o) }, o.watch);
    },
  );

  withCommonOptions(
    crawl
      .command('ranking')
      .description('a ranking (default: the latest daily one)')
      .option('--mode <mode>', `${RANKING_MODES.join(' | ')}`, oneOf(RANKING_MODES))
      .option('--content <content>', `${RANKING_CONTENTS.join(' | ')}`, oneOf(RANKING_CONTENTS))
      .option('--date <date>', 'YYYYMMDD or YYYY-MM-DD'),
  ).action(async (o: CommonOptions & { mode?: string; content?: string; date?: string }) => {
    await queue(
      cli,
      {
        crawl_type: 'ranking',
        ...(o.mode !== undefined ? { ranking_mode: o.mode } : {}),
        ...(o.content !== undefined ? { content: o.content } : {}),
        ...(o.date !== undefined ? { date: o.date } : {}),
        ...commonFields(o),
      },
      o.watch,
    );
  });
}
