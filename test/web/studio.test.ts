/**
 * The studio in a real browser (Debian chromium via playwright-core) against a real server whose
 * generate module talks to the fake WebUI: the generate page, the gallery, the generic create
 * form, languages and themes, accessibility (axe-core) and screenshots of every page
 * (.tmp/screenshots/). Needs a built console and /usr/bin/chromium, like console.test.ts.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Type } from 'typebox';
import { createGenerateModule } from '../../src/executors/generate/module.js';
import { FakeSdWebui } from '../fakes/sd-webui.js';
import { testExecutor } from '../helpers/executors.js';
import { startTestServer, waitForStatus, type TestServer } from '../helpers/server.js';

const CHROMIUM = '/usr/bin/chromium';
const CONSOLE_INDEX = fileURLToPath(new URL('../../web/dist/index.html', import.meta.url));
const SCREENSHOTS = fileURLToPath(new URL('../../.tmp/screenshots/', import.meta.url));
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const UI_TIMEOUT = 20_000;

const missing = [
  existsSync(CONSOLE_INDEX)
    ? null
    : 'web/dist/index.html (npx vite build --config web/vite.config.ts)',
  existsSync(CHROMIUM) ? null : CHROMIUM,
].filter((item): item is string => item !== null);
const skip =
  missing.length > 0 && process.env.TAILOR_REQUIRE_BROWSER !== '1'
    ? `studio tests need ${missing.join(' and ')}`
    : false;

/** A type whose config schema has one of every kind of field the generated form handles. */
const RichConfig = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 40, pattern: '^[A-Za-z ]+$' }),
    mode: Type.Union([Type.Literal('fast'), Type.Literal('careful')], { default: 'fast' }),
    count: Type.Integer({ minimum: 1, maximum: 9, default: 3, description: 'How many' }),
    verbose: Type.Optional(Type.Boolean({ default: false })),
    keywords: Type.Optional(Type.Array(Type.String())),
    limits: Type.Object({ depth: Type.Integer({ minimum: 0, default: 1 }) }),
  },
  { additionalProperties: false },
);

type Theme = 'light' | 'dark';
type Language = 'en' | 'zh';

let browser: Browser;

interface Opened {
  page: Page;
  context: BrowserContext;
  errors: string[];
}

/** A fresh context in a language and theme; page errors, console errors and failed requests are collected. */
async function open(
  url: string,
  options: { language?: Language; theme?: Theme; allow?: RegExp[] } = {},
): Promise<Opened> {
  const context = await browser.newContext({
    locale: options.language === 'zh' ? 'zh-CN' : 'en-US',
    colorScheme: options.theme ?? 'light',
    viewport: { width: 1366, height: 900 },
  });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    // The live preview answers 404 until the WebUI has a preview: that is its contract, and the
    // page polls it while a generation runs.
    if (/\/api\/generate\/[^/]+\/preview$/.test(message.location().url)) return;
    if (message.type() === 'error' && !options.allow?.some((p) => p.test(message.text())))
      errors.push(`console: ${message.text()}`);
  });
  page.on('requestfailed', (request) => {
    if (request.failure()?.errorText !== 'net::ERR_ABORTED')
      errors.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`);
  });
  await page.goto(url);
  await page.locator('[data-testid="connection-indicator"][data-state="open"]').waitFor();
  return { page, context, errors };
}

/** Serious and critical axe-core violations of the page as it is now. */
async function axeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate('typeof window.axe !== "undefined"')))
    await page.addScriptTag({ content: AXE });
  const violations = (await page.evaluate(`
    window.axe.run(document, { resultTypes: ['violations'] }).then((result) =>
      result.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
      })),
    )
  `)) as { id: string; impact: string; nodes: string[] }[];
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.nodes.join(' | ')}`);
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true });
}

/** Pick `label` in the antd Select with data-testid `testId`. */
async function choose(page: Page, testId: string, label: string): Promise<void> {
  await page.locator(`[data-testid="${testId}"]`).click();
  await page
    .locator(`.ant-select-dropdown:visible .ant-select-item-option[title="${label}"]`)
    .click();
}

describe('studio', { skip }, () => {
  let webui: FakeSdWebui;
  let server: TestServer;

  before(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    webui = await FakeSdWebui.start({ stepDelayMs: 15, imageSize: 64 });
    server = await startTestServer({
      config: { sdWebuiUrl: webui.url },
      server: { modules: [createGenerateModule({ progressPollMs: 40, requestTimeoutMs: 5_000 })] },
      executors: (recorder, gates) => [
        testExecutor('alpha', { recorder, gates }),
        {
          ...testExecutor('rich', { recorder, gates }),
          schema: RichConfig,
          description: 'rich form',
        },
      ],
    });
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
    await webui?.close();
  });

  test('a stored config is edited, generated with a LoRA, followed live, opened in the gallery and re-generated', async () => {
    const { page, context, errors } = await open(`${server.url}/#/generate`);
    try {
      await page
        .locator('[data-testid="config-item"][data-name="Portrait"] [data-testid="config-select"]')
        .click();
      await page.locator('[data-testid="editor-title"]', { hasText: 'Portrait' }).waitFor();

      const prompt = page.locator('[data-testid="gen-prompt"]');
      await prompt.fill('a lighthouse at dusk');
      await page.locator('[data-testid="lora-add"]').click();
      const lora = page.locator('[data-testid="lora-row"]').last();
      await lora.getByRole('combobox').first().fill('detail');
      // The LoRA picker offers the WebUI's LoRAs (GET /api/generate/options).
      await page
        .locator('.ant-select-dropdown:visible .ant-select-item-option[title="detail"]')
        .waitFor();
      await lora.getByRole('combobox').first().press('Escape');
      await lora
        .locator('[data-testid="lora-weight"] input, input[data-testid="lora-weight"]')
        .first()
        .fill('0.6');
      const triggers = lora.getByRole('combobox').nth(1);
      await triggers.fill('sharp');
      await triggers.press('Enter');
      await page.locator('[data-testid="changed-count"]').waitFor();
      await page.locator('[data-testid="gen-steps"]').fill('20');

      // Slow enough for the page to show the WebUI's live preview while it samples.
      webui.stepDelayMs = 250;
      await page.locator('[data-testid="generate-button"]').click();
      const run = page.locator('[data-testid="generation-run"]');
      await run.waitFor();
      await run.locator('[data-testid="live-preview"]').waitFor();
      webui.stepDelayMs = 15;
      const taskId = await run.getAttribute('data-task');
      assert.ok(taskId);
      await run.locator('[data-testid="run-status"][data-status="completed"]').waitFor();
      await run.locator('[data-testid="result-image"] img').first().waitFor();

      const sent = webui.txt2imgBodies.at(-1)!;
      assert.match(String(sent.prompt), /a lighthouse at dusk/);
      assert.match(String(sent.prompt), /<lora:detail:0\.6>/);
      assert.match(String(sent.prompt), /sharp/);
      assert.equal(sent.steps, 20);
      const task = await server.client.getTask(taskId);
      assert.equal(task.config.config_name, 'Portrait');

      await run.locator('[data-testid="open-in-gallery"]').click();
      await page.waitForURL(/#\/gallery\?task=/);
      const image = page.locator(`[data-testid="gallery-image"][data-task="${taskId}"]`).first();
      await image.waitFor();
      await image.click();
      const viewer = page.locator('[data-testid="image-viewer"]');
      await viewer.waitFor();
      await viewer.locator('[data-testid="viewer-image"]').waitFor();
      assert.match(
        await viewer.locator('[data-testid="detail-gallery.prompt"]').innerText(),
        /a lighthouse at dusk/,
      );
      // Keyboard: ←/→ move through the images, + zooms, Esc closes.
      const position = page.locator('[data-testid="viewer-position"]');
      assert.match(await position.innerText(), /^1 of 2$/);
      await page.keyboard.press('ArrowRight');
      await position.filter({ hasText: '2 of 2' }).waitFor();
      await page.keyboard.press('ArrowLeft');
      await position.filter({ hasText: '1 of 2' }).waitFor();
      await page.keyboard.press('+');
      assert.match(
        (await viewer.locator('[data-testid="viewer-image"]').getAttribute('style')) ?? '',
        /scale\(1\.5\)/,
      );
      await page.keyboard.press('0');
      await page.keyboard.press('Escape');
      await viewer.waitFor({ state: 'hidden' });
      await image.click();
      await viewer.locator('[data-testid="viewer-image"]').waitFor();
      await screenshot(page, 'gallery-viewer-en-light');
      assert.deepEqual(await axeViolations(page), [], 'viewer accessibility');

      await viewer.locator(`[data-testid="reopen-generate"]`).click();
      await page.waitForURL(/#\/generate\?from_task=/);
      await page.locator('[data-testid="prefilled"]').waitFor();
      assert.equal(await prompt.inputValue(), 'a lighthouse at dusk');
      assert.equal(await page.locator('[data-testid="lora-row"]').count(), 1);
      await page.locator('[data-testid="generate-button"]').click();
      await page
        .locator(
          `[data-testid="generation-run"]:not([data-task="${taskId}"]) [data-testid="run-status"][data-status="completed"]`,
        )
        .waitFor();
      const again = webui.txt2imgBodies.at(-1)!;
      assert.match(String(again.prompt), /a lighthouse at dusk/);
      // The image's own seed, not a new random one.
      const sidecarSeed = (
        (await server.client.getGallery({ task_id: taskId })).images[0]!.sidecar as { seed: number }
      ).seed;
      assert.equal(again.seed, sidecarSeed);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('the config library creates, edits, duplicates, filters and deletes through the schema form', async () => {
    const { page, context, errors } = await open(`${server.url}/#/generate`);
    try {
      await page.locator('[data-testid="config-item"]').first().waitFor();
      await page.locator('[data-testid="config-new"]').click();
      await page.locator('[data-testid="config-field-name"]').fill('Night city');
      await page.locator('[data-testid="config-field-category"]').fill('studio');
      await page.locator('[data-testid="config-field-prompt"]').fill('neon streets');
      await page.locator('[data-testid="config-field-steps"]').fill('12');
      // The JSON tab shows what the form holds.
      await page.locator('[data-testid="config-tab-json"]').click();
      const json = JSON.parse(await page.locator('[data-testid="config-json"]').inputValue()) as {
        name: string;
        steps: number;
      };
      assert.equal(json.name, 'Night city');
      assert.equal(json.steps, 12);
      await page.locator('[data-testid="config-save"]').click();
      const item = page.locator('[data-testid="config-item"][data-name="Night city"]');
      await item.waitFor();
      await page.locator('[data-testid="editor-title"]', { hasText: 'Night city' }).waitFor();

      await item.locator('[data-testid="config-edit"]').click();
      await page.locator('[data-testid="config-tab-form"]').click();
      await page.locator('[data-testid="config-field-prompt"]').fill('neon streets in rain');
      await page.locator('[data-testid="config-save"]').click();
      await page
        .locator('[data-testid="gen-prompt"]', { hasText: 'neon streets in rain' })
        .waitFor();

      await item.locator('[data-testid="config-duplicate"]').click();
      await page.locator('[data-testid="config-item"][data-name="Night city (copy)"]').waitFor();

      await page
        .locator('[data-testid="config-search"] input, input[data-testid="config-search"]')
        .first()
        .fill('night');
      assert.equal(await page.locator('[data-testid="config-item"]').count(), 2);
      await page
        .locator('[data-testid="config-search"] input, input[data-testid="config-search"]')
        .first()
        .fill('');
      await choose(page, 'config-category', 'studio');
      assert.equal(await page.locator('[data-testid="config-item"]').count(), 2);

      await page
        .locator(
          '[data-testid="config-item"][data-name="Night city (copy)"] [data-testid="config-delete"]',
        )
        .click();
      await page.locator('[data-testid="config-delete-confirm"]').click();
      await page
        .locator('[data-testid="config-item"][data-name="Night city (copy)"]')
        .waitFor({ state: 'detached' });
      const stored = await server.client.call<{ configs: { name: string; prompt: string }[] }>(
        '/api/configs?name=night',
        undefined,
        'GET',
      );
      assert.deepEqual(
        stored.configs.map((c) => [c.name, c.prompt]),
        [['Night city', 'neon streets in rain']],
      );
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('the New task dialog renders a form from the type schema, kept in sync with its JSON', async () => {
    const { page, context, errors } = await open(server.url);
    try {
      await page.locator('[data-testid="create-task-button"]').click();
      await page.locator('[data-testid="create-type"]').click();
      await page.locator('.ant-select-dropdown .ant-select-item-option[title="rich form"]').click();

      // Defaults are prefilled.
      assert.equal(await page.locator('[data-testid="create-field-count"]').inputValue(), '3');
      // The pattern is checked before anything is sent.
      await page.locator('[data-testid="create-field-title"]').fill('not valid 42');
      await page.locator('[data-testid="create-submit"]').click();
      await page.locator('.ant-form-item-explain-error').first().waitFor();
      await page.locator('[data-testid="create-field-title"]').fill('Hello world');
      await choose(page, 'create-field-mode', 'careful');
      await page.locator('[data-testid="create-field-count"]').fill('5');
      await page.locator('[data-testid="create-field-verbose"]').click();
      assert.equal(
        await page.locator('[data-testid="create-field-verbose"]').getAttribute('aria-checked'),
        'true',
      );
      const keywords = page.locator('[data-testid="create-field-keywords"]').getByRole('combobox');
      await keywords.fill('sky');
      await keywords.press('Enter');
      await page.locator('[data-testid="create-field-limits-depth"]').fill('4');

      await page.locator('[data-testid="create-tab-json"]').click();
      const json = page.locator('[data-testid="create-json"]');
      assert.deepEqual(JSON.parse(await json.inputValue()), {
        title: 'Hello world',
        mode: 'careful',
        count: 5,
        verbose: true,
        keywords: ['sky'],
        limits: { depth: 4 },
      });
      // An edit of the JSON shows in the form.
      await json.fill(
        JSON.stringify({ title: 'From json', mode: 'fast', count: 7, limits: { depth: 2 } }),
      );
      await page.locator('[data-testid="create-tab-form"]').click();
      assert.equal(
        await page.locator('[data-testid="create-field-title"]').inputValue(),
        'From json',
      );
      assert.equal(await page.locator('[data-testid="create-field-count"]').inputValue(), '7');
      await page.locator('[data-testid="create-submit"]').click();
      await page.locator('[data-testid="create-field-title"]').waitFor({ state: 'hidden' });

      const { tasks } = await server.client.getTasks({ type: 'rich' });
      const created = tasks.find((task) => task.config.title === 'From json');
      assert.ok(created, 'no task was created');
      // The server fills in the schema's defaults (verbose).
      assert.deepEqual(created.config, {
        verbose: false,
        title: 'From json',
        mode: 'fast',
        count: 7,
        limits: { depth: 2 },
      });
      await waitForStatus(server.client, created.id, ['completed']);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('the language and the theme follow the browser, switch, and are remembered', async () => {
    const { page, context, errors } = await open(server.url, { language: 'zh', theme: 'dark' });
    try {
      await page.locator('[data-testid="nav-tasks"]', { hasText: '任务' }).waitFor();
      assert.equal(await page.evaluate('document.documentElement.lang'), 'zh-CN');
      assert.equal(await page.evaluate('document.documentElement.dataset.theme'), 'dark');

      await choose(page, 'language-switch', 'English');
      await page.locator('[data-testid="nav-tasks"]', { hasText: 'Tasks' }).waitFor();
      await choose(page, 'theme-switch', 'Light');
      assert.equal(await page.evaluate('document.documentElement.dataset.theme'), 'light');

      await page.reload();
      await page.locator('[data-testid="nav-tasks"]', { hasText: 'Tasks' }).waitFor();
      assert.equal(await page.evaluate('document.documentElement.dataset.theme'), 'light');
      assert.equal(await page.evaluate('localStorage.getItem("tailor.language")'), 'en');

      await choose(page, 'theme-switch', 'Follow system');
      assert.equal(await page.evaluate('document.documentElement.dataset.theme'), 'dark');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('every page has no serious or critical axe violations in either theme, and is screenshotted in both languages', async () => {
    // Something to show: a finished generation (images in the gallery), a failed and a running task.
    const done = await server.client.call<{ id: string }>('/api/generate-with-config', {
      config_id: (
        await server.client.call<{ configs: { id: string }[] }>('/api/configs', undefined, 'GET')
      ).configs[0]!.id,
    });
    await waitForStatus(server.client, done.id, ['completed'], 30_000);
    const failed = await server.client.createTask('alpha', { fail: 'the model file is missing' });
    await waitForStatus(server.client, failed.id, ['failed']);
    const held = await server.client.createTask('alpha', { gate: 'screenshots-hold' });
    await server.gates.entered('screenshots-hold');

    const violations: string[] = [];
    try {
      for (const theme of ['light', 'dark'] as const) {
        for (const language of ['en', 'zh'] as const) {
          const { page, context, errors } = await open(server.url, { language, theme });
          try {
            for (const [name, hash, ready] of [
              ['tasks', '#/tasks', `[data-testid="task-row-${held.id}"]`],
              ['gallery', '#/gallery', '[data-testid="gallery-image"]'],
              ['generate', '#/generate', '[data-testid="generation-editor"]'],
            ] as const) {
              await page.goto(`${server.url}/${hash}`);
              await page.locator(ready).first().waitFor();
              await page.waitForTimeout(300);
              await screenshot(page, `${name}-${language}-${theme}`);
              if (language === 'en')
                for (const v of await axeViolations(page))
                  violations.push(`${name} ${theme}: ${v}`);
            }
            await page.goto(`${server.url}/#/tasks`);
            await page.locator('[data-testid="create-task-button"]').click();
            await page.locator('[data-testid="create-type"]').waitFor();
            await page.waitForTimeout(300);
            await screenshot(page, `new-task-${language}-${theme}`);
            if (language === 'en')
              for (const v of await axeViolations(page)) violations.push(`new task ${theme}: ${v}`);
            await page.keyboard.press('Escape');
            await page.locator('[data-testid="create-type"]').waitFor({ state: 'hidden' });
            await page.goto(`${server.url}/#/tasks?task=${done.id}`);
            await page.locator('[data-testid="drawer-status"]').waitFor();
            await page.waitForTimeout(300);
            await screenshot(page, `task-drawer-${language}-${theme}`);
            if (language === 'en')
              for (const v of await axeViolations(page)) violations.push(`drawer ${theme}: ${v}`);
            await page.keyboard.press('Escape');
            await page.locator('[data-testid="task-drawer"]').waitFor({ state: 'hidden' });
            // A narrow screen: the navigation collapses, the actions column stays in view.
            await page.setViewportSize({ width: 420, height: 860 });
            await page.goto(`${server.url}/#/tasks`);
            await page
              .locator(`[data-testid="task-row-${held.id}"] [data-testid="action-stop"]`)
              .waitFor();
            assert.ok(
              await page
                .locator(`[data-testid="task-row-${held.id}"] [data-testid="action-stop"]`)
                .isVisible(),
            );
            await screenshot(page, `tasks-narrow-${language}-${theme}`);
            assert.deepEqual(errors, [], `${language} ${theme}`);
          } finally {
            await context.close();
          }
        }
      }
    } finally {
      server.gates.open('screenshots-hold');
    }
    assert.deepEqual(violations, []);
  });
});
