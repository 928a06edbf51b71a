/**
 * `tailor train DATASET… --base-model FILE [--family sd15|sdxl|flux] [--epochs N] [--dim N] [--watch]`
 * DATASET is a folder (relative to the server's data dir or under TAILOR_IMAGE_ROOTS) or, with
 * `--from-tasks`, the ids of earlier crawl/tag tasks.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { Task } from '../../client/index.js';
import type { CliContext } from '../module.js';
import { MODEL_FAMILIES } from './config-schema.js';
import { integerArg as integer, numberArg as number } from '../cli-args.js';

const family = (value: string): string => {
  if (!(MODEL_FAMILIES as readonly string[]).includes(value))
    throw new InvalidArgumentError(`must be one of ${MODEL_FAMILIES.join(', ')}`);
  return value;
};

interface TrainOptions {
  baseModel: string;
  family?: string;
  fromTasks?: boolean;
  repeats?: number;
  classTokens?: string;
  epochs?: number;
  steps?: number;
  dim?: number;
  alpha?: number;
  lr?: number;
  resolution?: number;
  batchSize?: number;
  name?: string;
  samplePrompt?: string[];
  priority?: number;
  watch?: boolean;
}

/** The request body for `POST /api/train/create` from the command line. */
export function trainRequestOf(
  datasets: readonly string[],
  o: TrainOptions,
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    ...(o.fromTasks
      ? { dataset_task_ids: [...datasets] }
      : { dataset_dir: datasets.length === 1 ? datasets[0] : [...datasets] }),
    base_model: o.baseModel,
  };
  const fields: [string, unknown][] = [
    ['model_family', o.family],
    ['num_repeats', o.repeats],
    ['class_tokens', o.classTokens],
    ['max_train_epochs', o.epochs],
    ['max_train_steps', o.steps],
    ['network_dim', o.dim],
    ['network_alpha', o.alpha],
    ['learning_rate', o.lr],
    ['resolution', o.resolution],
    ['train_batch_size', o.batchSize],
    ['output_name', o.name],
    ['sample_prompts', o.samplePrompt],
    ['priority', o.priority],
  ];
  for (const [key, value] of fields) if (value !== undefined) body[key] = value;
  return body;
}

export function trainCli(program: Command, cli: CliContext): void {
  program
    .command('train')
    .description('queue a LoRA training with kohya-ss sd-scripts')
    .argument('<dataset...>', 'image folder(s), or task ids with --from-tasks')
    .requiredOption(
      '--base-model <file>',
      'checkpoint name under <models>/checkpoints, or an absolute path',
    )
    .option(
      '--family <family>',
      `model family: ${MODEL_FAMILIES.join(', ')} (default sd15)`,
      family,
    )
    .option('--from-tasks', 'the datasets are crawl/tag task ids (their output folders)')
    .option('--repeats <n>', 'repeats per image per epoch (default 10)', integer)
    .option('--class-tokens <text>', 'class tokens for every folder')
    .option('--epochs <n>', 'epochs (default 10)', integer)
    .option('--steps <n>', 'train for this many steps instead of epochs', integer)
    .option('--dim <n>', 'network dim (default 32)', integer)
    .option('--alpha <n>', 'network alpha (default 16)', number)
    .option('--lr <n>', 'learning rate (default 1e-4)', number)
    .option('--resolution <n>', 'resolution (default 512 for sd15, 1024 otherwise)', integer)
    .option('--batch-size <n>', 'train batch size (default 1)', integer)
    .option('--name <name>', 'output name: the LoRA file and <lora:NAME:1>')
    .option('--sample-prompt <text...>', 'prompts to sample after each epoch')
    .option('--priority <n>', 'higher runs first within the train lane', integer)
    .option(
      '--watch',
      'follow the task until it ends (exit code 0 completed, 1 failed, 3 cancelled)',
    )
    .action(async (datasets: string[], o: TrainOptions) => {
      const body = trainRequestOf(datasets, o);
      if (o.samplePrompt) body.sample_every_n_epochs = 1;
      const task = await cli.client().call<Task>('/api/train/create', body);
      cli.printTask(task);
      if (o.watch) process.exitCode = cli.exitCodeOf(await cli.watch(task.id));
    });
}
