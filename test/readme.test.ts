/**
 * The README is run, not trusted: every `tailor …` line of its shell blocks names a command and
 * flags that exist, its settings tables list every setting (core and modules), and its Quick
 * start client commands run against a started server.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Command, Option } from 'commander';
import { buildProgram } from '../src/cli/program.js';
import { CORE_SETTINGS } from '../src/config/config.js';
import { builtInModules } from '../src/executors/index.js';
import { moduleSettings } from '../src/server.js';
import { runCli } from './cli/run-cli.js';
import { FakeSdWebui } from './fakes/sd-webui.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The lines of every ```sh block, continuation lines joined, comments dropped. */
function shellLines(markdown: string): string[] {
  const lines: string[] = [];
  for (const block of markdown.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const joined = block[1]!.replace(/\\\n\s*/g, ' ');
    for (const raw of joined.split('\n')) {
      const line = raw.replace(/\s+#\s.*$/, '').trim();
      if (line && !line.startsWith('#')) lines.push(line);
    }
  }
  return lines;
}

/** Shell words, quotes removed (enough for the README: no escapes inside quotes). */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

/** `tailor …` invocations (also as `npx tailor`), up to a pipe or `&&`. */
function tailorInvocations(lines: readonly string[]): string[][] {
  const found: string[][] = [];
  for (const line of lines) {
    const w = words(line);
    const at = w.findIndex((word, i) => word === 'tailor' && (i === 0 || w[i - 1] === 'npx'));
    if (at < 0) continue;
    const rest = w.slice(at + 1);
    const end = rest.findIndex((word) => ['|', '&&', ';', '>'].includes(word));
    found.push(end < 0 ? rest : rest.slice(0, end));
  }
  return found;
}

function optionNames(command: Command): Set<string> {
  const names = new Set<string>(['--help', '-h']);
  for (const option of command.options as readonly Option[]) {
    if (option.long) names.add(option.long);
    if (option.short) names.add(option.short);
    if (option.negate && option.long) names.add(option.long);
  }
  return names;
}

describe('the README', () => {
  const program = buildProgram(builtInModules);
  const programOptions = optionNames(program);
  const invocations = tailorInvocations(shellLines(README));

  test('shows tailor commands', () => {
    assert.ok(invocations.length >= 10, `${invocations.length} tailor lines`);
  });

  test('names only tailor commands and flags that exist', () => {
    const problems: string[] = [];
    for (const argv of invocations) {
      let command: Command = program;
      let allowed = new Set(programOptions);
      for (const word of argv) {
        if (word.startsWith('-')) {
          const flag = word.split('=')[0]!;
          if (!allowed.has(flag) && !programOptions.has(flag))
            problems.push(`tailor ${argv.join(' ')}: no option ${flag} for "${command.name()}"`);
          continue;
        }
        const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
        if (sub) {
          command = sub;
          allowed = optionNames(sub);
        } else if (command === program) {
          problems.push(`tailor ${argv.join(' ')}: no command ${word}`);
          break;
        }
      }
      if (command === program) problems.push(`tailor ${argv.join(' ')}: no such command`);
      if (command.commands.length > 0 && !command.commands.some((c) => argv.includes(c.name())))
        problems.push(`tailor ${argv.join(' ')}: "${command.name()}" needs a subcommand`);
    }
    assert.deepEqual(problems, []);
  });

  test('lists every setting, core and module, with its env var', () => {
    const rows = README.split('\n').filter((line) => line.startsWith('|'));
    const missing: string[] = [];
    for (const spec of [...CORE_SETTINGS, ...moduleSettings(builtInModules)]) {
      const row = rows.find((line) => line.includes(` ${spec.key} `));
      if (!row || !row.includes(`\`${spec.env}\``)) missing.push(`${spec.key} (${spec.env})`);
    }
    assert.deepEqual(missing, []);
  });

  describe('Quick start client commands run against a server', () => {
    let webui: FakeSdWebui;
    let s: TestServer;
    before(async () => {
      webui = await FakeSdWebui.start();
      s = await startTestServer({
        config: { sdWebuiUrl: webui.url },
        server: { modules: builtInModules },
      });
    });
    after(async () => {
      await s.dispose();
      await webui.close();
    });

    test('tailor types, configs list, generate --watch and list run as written', async () => {
      const env = { TAILOR_URL: s.url };
      const quickStart = README.slice(
        README.indexOf('## Quick start'),
        README.indexOf('## Configuration'),
      );
      const runnable = tailorInvocations(shellLines(quickStart)).filter((argv) =>
        ['types', 'configs', 'generate', 'list'].includes(argv[0]!),
      );
      assert.ok(runnable.length >= 4, `${runnable.length} runnable Quick start commands`);
      for (const argv of runnable) {
        const result = await runCli(argv, env);
        assert.equal(result.code, 0, `tailor ${argv.join(' ')}: ${result.stderr}${result.stdout}`);
      }
      const { tasks } = await s.client.getTasks({ type: 'generate' });
      assert.equal(tasks[0]?.status, 'completed', 'the Quick start generation completed');
      assert.equal(tasks[0]?.config.prompt, 'a fox in the snow');
    });
  });
});
