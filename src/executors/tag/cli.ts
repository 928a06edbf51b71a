/**
 * `tailor tag DIR [...]` queues a tag task on the server; `tailor models pull REPO` downloads a
 * WD14 model on this machine (the server may be elsewhere: copy or mount the folder there, or run
 * the pull where the server runs); `tailor models list` asks the server what it has installed.
 */
import { resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import { Option, type Command } from 'commander';
import type { CliContext } from '../module.js';
import { DEFAULT_HF_ENDPOINT, pullModel } from './pull.js';
import { SAVE_TYPES } from './schema.js';
import { integerArg as integer, numberArg as number } from '../cli-args.js';

const list = (value: string, previous: string[] = []): string[] => [
  ...previous,
  ...value
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean),
];

/** Where `models pull` writes: flag, then TAILOR_MODELS_DIR, then `<data dir>/models`. */
export function cliModelsDir(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  if (flag) return resolve(flag);
  if (env.TAILOR_MODELS_DIR) return resolve(env.TAILOR_MODELS_DIR);
  return resolve(env.TAILOR_DATA_DIR || './data', 'models');
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

interface ModelsList {
  models_dir: string;
  default: string | null;
  models: { name: string; tags: number | null; input_size: number | null; error?: string }[];
}

export function tagCli(program: Command, cli: CliContext): void {
  program
    .command('tag <dirs...>')
    .description(
      'queue a tag task: captions for the images in DIR (as the server sees it: relative to its ' +
        'data dir, or under TAILOR_IMAGE_ROOTS)',
    )
    .addOption(
      new Option('--analyzer <name>', 'local WD14 model or the WebUI tagger').choices([
        'wd14',
        'webui',
      ]),
    )
    .option('--model <name>', 'WD14 model folder (tailor models list) or WebUI interrogator')
    .option('--threshold <n>', 'general tags (default 0.35)', number)
    .option('--character-threshold <n>', 'character tags (default 0.85)', number)
    .option('--mcut', 'MCut thresholds instead of fixed ones')
    .option('--exclude <tags>', 'comma-separated tags never written', list)
    .option('--prepend <tags>', 'comma-separated tags written first', list)
    .addOption(new Option('--save-type <type>', 'caption format').choices([...SAVE_TYPES]))
    .option('--output-dir <dir>', 'write captions here, mirroring the input folders')
    .option('--recursive', 'include subfolders')
    .option('--overwrite', 'replace existing captions')
    .option('--include-rating', 'add the top rating tag')
    .option('--limit <n>', 'at most this many images', integer)
    .option('--priority <n>', 'higher runs first within its lane', integer)
    .option(
      '--watch',
      'follow the task until it ends (exit code: 0 completed, 1 failed, 3 cancelled)',
    )
    .action(
      async (
        dirs: string[],
        o: {
          analyzer?: string;
          model?: string;
          threshold?: number;
          characterThreshold?: number;
          mcut?: boolean;
          exclude?: string[];
          prepend?: string[];
          saveType?: string;
          outputDir?: string;
          recursive?: boolean;
          overwrite?: boolean;
          includeRating?: boolean;
          limit?: number;
          priority?: number;
          watch?: boolean;
        },
      ) => {
        const body = {
          input_dir: dirs.length === 1 ? dirs[0]! : dirs,
          ...(o.analyzer !== undefined ? { analyzer: o.analyzer } : {}),
          ...(o.model !== undefined ? { model: o.model } : {}),
          ...(o.threshold !== undefined ? { threshold: o.threshold } : {}),
          ...(o.characterThreshold !== undefined
            ? { character_threshold: o.characterThreshold }
            : {}),
          ...(o.mcut ? { mcut: true } : {}),
          ...(o.exclude ? { exclude_tags: o.exclude } : {}),
          ...(o.prepend ? { prepend_tags: o.prepend } : {}),
          ...(o.saveType !== undefined ? { save_type: o.saveType } : {}),
          ...(o.outputDir !== undefined ? { output_dir: o.outputDir } : {}),
          ...(o.recursive ? { recursive: true } : {}),
          ...(o.overwrite ? { overwrite: true } : {}),
          ...(o.includeRating ? { include_rating: true } : {}),
          ...(o.limit !== undefined ? { limit: o.limit } : {}),
          ...(o.priority !== undefined ? { priority: o.priority } : {}),
        };
        const task = await cli
          .client()
          .call<Parameters<CliContext['printTask']>[0]>('/api/tag/create', body);
        cli.printTask(task);
        if (o.watch) process.exitCode = cli.exitCodeOf(await cli.watch(task.id));
      },
    );

  const models = program.command('models').description('WD14 tagger models');
  models
    .command('list')
    .description("the server's installed WD14 models")
    .action(async () => {
      const data = await cli.client().call<ModelsList>('/api/tag/models', undefined, 'GET');
      if (cli.json()) console.log(JSON.stringify(data, null, 2));
      else {
        for (const m of data.models) {
          console.log(
            m.error
              ? `${m.name}  error: ${m.error}`
              : `${m.name.padEnd(32)} ${m.input_size}px  ${m.tags} tags${m.name === data.default ? '  (default)' : ''}`,
          );
        }
        console.log(`${data.models.length} model(s) in ${data.models_dir}`);
      }
    });
  models
    .command('pull <repo>')
    .description(
      'download model.onnx and selected_tags.csv of a Hugging Face repo (e.g. ' +
        'SmilingWolf/wd-vit-tagger-v3) into <models>/wd14/<name> on this machine; resumes a partial download',
    )
    .option('--name <name>', "folder name (default: the repo's name)")
    .option(
      '--models-dir <dir>',
      'models folder (TAILOR_MODELS_DIR, else <TAILOR_DATA_DIR or ./data>/models)',
    )
    .option('--endpoint <url>', `hub or mirror (HF_ENDPOINT, default ${DEFAULT_HF_ENDPOINT})`)
    .option('--revision <rev>', 'branch, tag or commit', 'main')
    .option('--force', 'download again even if the files exist')
    .option('--retries <n>', 'resumed attempts after a broken connection', integer, 3)
    .action(
      async (
        repo: string,
        o: {
          name?: string;
          modelsDir?: string;
          endpoint?: string;
          revision: string;
          force?: boolean;
          retries: number;
        },
      ) => {
        const interactive = process.stderr.isTTY === true && !cli.json();
        let bar: SingleBar | null = null;
        const controller = new AbortController();
        const interrupt = (): void => controller.abort();
        process.once('SIGINT', interrupt);
        try {
          const result = await pullModel({
            repo,
            name: o.name,
            modelsDir: cliModelsDir(o.modelsDir, process.env),
            endpoint: o.endpoint ?? process.env.HF_ENDPOINT ?? DEFAULT_HF_ENDPOINT,
            revision: o.revision,
            token: process.env.HF_TOKEN ?? null,
            force: o.force,
            retries: o.retries,
            signal: controller.signal,
            onStart: (file, total, from) => {
              if (!cli.json() && from > 0) console.error(`${file}: resuming at ${mb(from)}`);
              if (!interactive) return;
              bar = new SingleBar({
                format: `${file.padEnd(18)} [{bar}] {percentage}% {value}/{total} MB`,
                stream: process.stderr,
              });
              const scale = (n: number) => Math.round((n / 1024 / 1024) * 10) / 10;
              bar.start(total === null ? 0 : scale(total), scale(from));
            },
            onProgress: ({ received }) =>
              bar?.update(Math.round((received / 1024 / 1024) * 10) / 10),
            onFileDone: (file, bytes, skipped) => {
              bar?.stop();
              bar = null;
              if (!cli.json()) {
                console.log(
                  skipped
                    ? `${file}: already there (${mb(bytes)}; --force downloads again)`
                    : `${file}: ${mb(bytes)}`,
                );
              }
            },
          });
          if (cli.json()) console.log(JSON.stringify(result, null, 2));
          else console.log(`model ${result.name} is in ${result.dir}`);
        } finally {
          (bar as SingleBar | null)?.stop();
          process.off('SIGINT', interrupt);
        }
      },
    );
}
