/**
 * `tailor generate --config NAME|ID [--prompt …]` and `tailor configs list|show|create|edit`.
 * A stored config is named by its id or by its exact name (case-insensitive).
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import type { TailorClient } from '../../client/index.js';
import { isTaskId } from '../../domain/task.js';
import type { CliContext } from '../module.js';
import { integerArg as integer, numberArg as number } from '../cli-args.js';

interface PublicConfig {
  id: string;
  name: string;
  category: string;
  prompt?: string;
  width?: number;
  height?: number;
  sampler?: string;
  steps?: number;
  [field: string]: unknown;
}

interface ConfigList {
  configs: PublicConfig[];
  pagination: { page: number; page_size: number; total: number };
}

/** JSON given inline or as `@file.json`. */
function jsonObject(text: string, option: string): Record<string, unknown> {
  const source = text.startsWith('@') ? readFileSync(text.slice(1), 'utf8') : text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(source);
  } catch (error) {
    throw new InvalidArgumentError(`${option} is not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new InvalidArgumentError(`${option} must be a JSON object`);
  return parsed as Record<string, unknown>;
}

/** `key=value` pairs; the value is JSON when it parses (numbers, lists), else a string. */
function assignments(pairs: readonly string[]): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at < 1)
      throw new InvalidArgumentError(`--set takes key=value, got ${JSON.stringify(pair)}`);
    const raw = pair.slice(at + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string
    }
    fields[pair.slice(0, at)] = value;
  }
  return fields;
}

async function findConfig(client: TailorClient, ref: string): Promise<PublicConfig> {
  if (isTaskId(ref)) {
    try {
      return await client.call<PublicConfig>(`/api/configs/${ref}`, undefined, 'GET');
    } catch {
      // not an id after all: try it as a name
    }
  }
  const { configs } = await client.call<ConfigList>(
    `/api/configs?name=${encodeURIComponent(ref)}&page_size=100`,
    undefined,
    'GET',
  );
  const exact = configs.filter((c) => c.name.toLowerCase() === ref.toLowerCase());
  if (exact.length === 1) return exact[0]!;
  if (exact.length > 1)
    throw new Error(
      `${exact.length} configs are named ${JSON.stringify(ref)}: use an id (${exact.map((c) => c.id).join(', ')})`,
    );
  const near = configs.map((c) => c.name).slice(0, 5);
  throw new Error(
    `no generation config ${JSON.stringify(ref)}` +
      (near.length ? ` (names containing it: ${near.join(', ')})` : ' (tailor configs list)'),
  );
}

const summary = (c: PublicConfig): string =>
  `${c.id}  ${c.name.padEnd(24)} ${(c.category || '-').padEnd(12)} ${c.width}×${c.height} ${c.sampler ?? ''} ${c.steps ?? ''} steps`;

export function generateCli(program: Command, cli: CliContext): void {
  program
    .command('generate')
    .description('queue a generate task from a stored config, with fields overridden')
    .requiredOption('--config <name|id>', 'stored generation config (tailor configs list)')
    .option('--prompt <text>', 'replaces the prompt')
    .option('--negative-prompt <text>', 'replaces the negative prompt')
    .option('--seed <n>', 'seed (-1 = random)', integer)
    .option('--steps <n>', 'sampling steps', integer)
    .option('--cfg-scale <n>', 'CFG scale', number)
    .option('--width <n>', 'width in pixels', integer)
    .option('--height <n>', 'height in pixels', integer)
    .option('--sampler <name>', 'sampler name as the WebUI lists it')
    .option('--batch-size <n>', 'images per batch', integer)
    .option('--set <key=value...>', "any other field (JSON values: --set 'loras=[…]')")
    .option('--priority <n>', 'higher runs first within its lane', integer)
    .option(
      '--watch',
      'follow the task until it ends (exit code: 0 completed, 1 failed, 3 cancelled)',
    )
    .action(
      async (o: {
        config: string;
        prompt?: string;
        negativePrompt?: string;
        seed?: number;
        steps?: number;
        cfgScale?: number;
        width?: number;
        height?: number;
        sampler?: string;
        batchSize?: number;
        set?: string[];
        priority?: number;
        watch?: boolean;
      }) => {
        const client = cli.client();
        const stored = await findConfig(client, o.config);
        const override: Record<string, unknown> = {
          ...assignments(o.set ?? []),
          ...(o.prompt !== undefined ? { prompt: o.prompt } : {}),
          ...(o.negativePrompt !== undefined ? { negative_prompt: o.negativePrompt } : {}),
          ...(o.seed !== undefined ? { seed: o.seed } : {}),
          ...(o.steps !== undefined ? { steps: o.steps } : {}),
          ...(o.cfgScale !== undefined ? { cfg_scale: o.cfgScale } : {}),
          ...(o.width !== undefined ? { width: o.width } : {}),
          ...(o.height !== undefined ? { height: o.height } : {}),
          ...(o.sampler !== undefined ? { sampler: o.sampler } : {}),
          ...(o.batchSize !== undefined ? { batch_size: o.batchSize } : {}),
        };
        const task = await client.call<Parameters<CliContext['printTask']>[0]>(
          '/api/generate-with-config',
          {
            config_id: stored.id,
            ...(Object.keys(override).length ? { override } : {}),
            ...(o.priority !== undefined ? { priority: o.priority } : {}),
          },
        );
        cli.printTask(task);
        if (o.watch) process.exitCode = cli.exitCodeOf(await cli.watch(task.id));
      },
    );

  const configs = program.command('configs').description('stored generation configs');
  configs
    .command('list')
    .description('configs sorted by name')
    .option('--name <text>', 'names containing it (case-insensitive)')
    .option('--category <name>', 'exact category')
    .option('--page <n>', 'page', integer, 1)
    .option('--page-size <n>', 'page size (≤ 100)', integer, 50)
    .action(async (o: { name?: string; category?: string; page: number; pageSize: number }) => {
      const query = new URLSearchParams({ page: String(o.page), page_size: String(o.pageSize) });
      if (o.name) query.set('name', o.name);
      if (o.category) query.set('category', o.category);
      const data = await cli
        .client()
        .call<ConfigList>(`/api/configs?${query.toString()}`, undefined, 'GET');
      if (cli.json()) console.log(JSON.stringify(data, null, 2));
      else {
        for (const config of data.configs) console.log(summary(config));
        console.log(`${data.configs.length} of ${data.pagination.total}`);
      }
    });
  configs
    .command('show <name|id>')
    .description('one config with every field')
    .action(async (ref: string) => {
      console.log(JSON.stringify(await findConfig(cli.client(), ref), null, 2));
    });
  configs
    .command('create')
    .description('store a config: --json takes the fields as JSON or @file.json')
    .requiredOption('--json <fields>', 'name, category, prompt, … (JSON or @file.json)')
    .action(async (o: { json: string }) => {
      const created = await cli
        .client()
        .call<PublicConfig>('/api/configs', jsonObject(o.json, '--json'), 'POST');
      console.log(cli.json() ? JSON.stringify(created, null, 2) : `created ${summary(created)}`);
    });
  configs
    .command('edit <name|id>')
    .description('change fields of a config (the others keep their values)')
    .option('--set <key=value...>', 'fields to change (JSON values)')
    .option('--json <fields>', 'fields to change as a JSON object or @file.json')
    .action(async (ref: string, o: { set?: string[]; json?: string }) => {
      const client = cli.client();
      const current = await findConfig(client, ref);
      const changes = {
        ...(o.json ? jsonObject(o.json, '--json') : {}),
        ...assignments(o.set ?? []),
      };
      if (Object.keys(changes).length === 0)
        throw new InvalidArgumentError('nothing to change: give --set key=value or --json');
      const { id, created_at: _c, updated_at: _u, ...fields } = current;
      const updated = await client.call<PublicConfig>(
        `/api/configs/${id}`,
        { ...fields, ...changes },
        'PUT',
      );
      console.log(cli.json() ? JSON.stringify(updated, null, 2) : `updated ${summary(updated)}`);
    });
}
