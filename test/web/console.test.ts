/**
 * The web console in a real browser (Debian chromium via playwright-core) against a real server.
 * Needs a built console (`npx vite build --config web/vite.config.ts`) and /usr/bin/chromium;
 * without them the suite is skipped loudly, or fails when TAILOR_REQUIRE_BROWSER=1 (CI).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startTestServer, waitForStatus, type TestServer } from '../helpers/server.js';

const CHROMIUM = '/usr/bin/chromium';
const CONSOLE_INDEX = fileURLToPath(new URL('../../web/dist/index.html', import.meta.url));
const TOKEN = 'a-test-token-of-16+chars';
/** Before signing in, the server refuses the API (401) and the socket; the browser logs both. */
const REFUSED_WITHOUT_TOKEN = [/status of 401/, /HTTP Authentication failed/];
const UI_TIMEOUT = 20_000;

const missing = [
  existsSync(CONSOLE_INDEX)
    ? null
    : 'web/dist/index.html (build it: npx vite build --config web/vite.config.ts)',
  existsSync(CHROMIUM) ? null : `${CHROMIUM} (install it: apt-get install -y chromium)`,
].filter((item): item is string => item !== null);
const requireBrowser = process.env.TAILOR_REQUIRE_BROWSER === '1';
const skip =
  missing.length > 0 && !requireBrowser ? `web console tests need ${missing.join(' and ')}` : false;

if (skip) {
  const bar = '!'.repeat(78);
  console.warn(
    `\n${bar}\n!! SKIPPED: ${skip}\n!! Set TAILOR_REQUIRE_BROWSER=1 to make this a failure.\n${bar}\n`,
  );
}

if (requireBrowser && missing.length > 0) {
  test('the browser test prerequisites are present (TAILOR_REQUIRE_BROWSER=1)', () => {
    assert.fail(`missing: ${missing.join('; ')}`);
  });
}

let browser: Browser;

async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** A fresh browser context (empty localStorage) with the console open; page errors fail the test. */
async function openConsole(
  url: string,
  /** Console errors a test provokes on purpose (the browser logs every refused request). */
  allow: RegExp[] = [],
): Promise<{ page: Page; context: BrowserContext; errors: string[] }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !allow.some((pattern) => pattern.test(message.text())))
      errors.push(`console: ${message.text()}`);
  });
  page.on('requestfailed', (request) => {
    // Closing a page aborts its socket and any image still loading; that is not a failure.
    if (request.failure()?.errorText !== 'net::ERR_ABORTED')
      errors.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`);
  });
  await page.goto(url);
  return { page, context, errors };
}

const row = (page: Page, id: string) => page.locator(`[data-testid="task-row-${id}"]`);
const rowWithStatus = (page: Page, id: string, status: string) =>
  row(page, id).locator(`[data-testid="task-status"][data-status="${status}"]`);

async function waitForLive(page: Page): Promise<void> {
  await page.locator('[data-testid="connection-indicator"][data-state="open"]').waitFor();
}

describe('web console', { skip }, () => {
  before(async () => {
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
  });

  describe('on a server without a token', () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer();
    });

    after(async () => {
      await server.dispose();
    });

    test('a task created through the API appears in the table and turns completed live, without a reload', async () => {
      const { page, context, errors } = await openConsole(server.url);
      try {
        await page.locator('[data-testid="task-table"]').waitFor();
        await waitForLive(page);
        await page.evaluate('window.__sameDocument = true');

        const task = await server.client.createTask('alpha', { gate: 'live-list', label: 'live' });
        await row(page, task.id).waitFor();
        await server.gates.entered('live-list');
        await rowWithStatus(page, task.id, 'running').waitFor();

        server.gates.open('live-list');
        await rowWithStatus(page, task.id, 'completed').waitFor();
        assert.equal(await page.evaluate('window.__sameDocument'), true, 'the page was reloaded');
        assert.deepEqual(errors, []);
      } finally {
        await context.close();
      }
    });

    test('the create form creates a task, and an invalid config shows the API error naming the field', async () => {
      const { page, context, errors } = await openConsole(server.url, [/status of 400/]);
      try {
        await waitForLive(page);
        await page.locator('[data-testid="create-task-button"]').click();

        await page.locator('[data-testid="create-type"]').click();
        await page
          .locator('.ant-select-dropdown .ant-select-item-option[title="test executor beta"]')
          .click();

        // The config is edited as JSON here; the schema-generated form is covered in studio.test.ts.
        await page.locator('[data-testid="create-tab-json"]').click();
        const config = page.locator('[data-testid="create-json"]');
        await config.fill('{"ms": "soon"}');
        await page.locator('[data-testid="create-submit"]').click();
        const error = page.locator('[data-testid="create-error"]');
        await error.waitFor();
        assert.match(await error.innerText(), /\/config\/ms/);

        await config.fill('{"label": "from-the-form"}');
        await page.locator('[data-testid="create-priority"]').fill('3');
        await page.locator('[data-testid="create-submit"]').click();
        await page.locator('[data-testid="create-json"]').waitFor({ state: 'hidden' });

        const { tasks } = await server.client.getTasks({ type: 'beta' });
        const created = tasks.find((task) => task.config.label === 'from-the-form');
        assert.ok(created, 'the form created no task');
        assert.equal(created.priority, 3);
        await row(page, created.id).waitFor();
        await rowWithStatus(page, created.id, 'completed').waitFor();
        assert.deepEqual(errors, []);
      } finally {
        await context.close();
      }
    });

    test('stopping a running task from its row cancels it', async () => {
      const { page, context, errors } = await openConsole(server.url);
      try {
        await waitForLive(page);
        const task = await server.client.createTask('gamma', { gate: 'never-opened-stop' });
        await server.gates.entered('never-opened-stop');
        await rowWithStatus(page, task.id, 'running').waitFor();

        await row(page, task.id).locator('[data-testid="action-stop"]').click();
        // Stopping running work asks first.
        assert.equal((await server.client.getTask(task.id)).status, 'running');
        await page.locator('[data-testid="confirm-stop"]').click();
        await rowWithStatus(page, task.id, 'cancelled').waitFor();
        assert.equal((await server.client.getTask(task.id)).status, 'cancelled');
        // A cancelled task offers a re-run, and no longer a stop.
        await row(page, task.id).locator('[data-testid="action-rerun"]').waitFor();
        assert.equal(await row(page, task.id).locator('[data-testid="action-stop"]').count(), 0);
        assert.deepEqual(errors, []);
      } finally {
        await context.close();
      }
    });

    test('the drawer shows stored log lines and follows new ones live', async () => {
      const { page, context, errors } = await openConsole(server.url);
      try {
        await waitForLive(page);
        // The blocker holds the delta lane, so the drawer opens on a task that has not logged yet.
        const blocker = await server.client.createTask('delta', { gate: 'drawer-blocker' });
        await server.gates.entered('drawer-blocker');
        const task = await server.client.createTask('delta', { logs: 3, label: 'with-logs' });
        await rowWithStatus(page, task.id, 'pending').waitFor();

        await row(page, task.id).locator('[data-testid="task-open"]').click();
        const drawer = page.locator('[data-testid="task-drawer"]');
        await drawer.locator('[data-testid="drawer-status"][data-status="pending"]').waitFor();
        assert.match(
          await drawer.locator('[data-testid="drawer-config"]').innerText(),
          /"label": "with-logs"/,
        );
        assert.equal(await drawer.locator('[data-testid="log-line"]').count(), 0);

        server.gates.open('drawer-blocker');
        await drawer.locator('[data-testid="drawer-status"][data-status="completed"]').waitFor();
        await drawer.locator('[data-testid="log-line"]', { hasText: 'line 3' }).waitFor();
        // The scheduler's own "started attempt" line comes first, then the executor's, in order.
        const lines = await drawer.locator('[data-testid="log-line"]').allInnerTexts();
        const executorLines = lines.filter((line) => /\bline \d$/.test(line));
        assert.deepEqual(
          executorLines.map((line) => line.replace(/^.*\[info\] /, '')),
          ['line 1', 'line 2', 'line 3'],
        );
        assert.match(lines[0]!, /started attempt 1/);
        await drawer.locator('[data-testid="drawer-result"]').waitFor();
        await waitForStatus(server.client, blocker.id, ['completed']);
        assert.deepEqual(errors, []);
      } finally {
        await context.close();
      }
    });
    test('delete (with its files) and clean up remove finished tasks, and never a running one', async () => {
      const { page, context, errors } = await openConsole(server.url);
      try {
        await waitForLive(page);
        const doomed = await server.client.createTask('epsilon', {
          writeFile: 'out.txt',
          label: 'doomed',
        });
        const finished = await server.client.createTask('epsilon', { label: 'finished' });
        const running = await server.client.createTask('beta', { gate: 'never-opened-cleanup' });
        await rowWithStatus(page, finished.id, 'completed').waitFor();
        await rowWithStatus(page, doomed.id, 'completed').waitFor();
        await rowWithStatus(page, running.id, 'running').waitFor();

        const doomedFiles = server.tasks.outputDirOf(doomed.id);
        assert.ok(existsSync(join(doomedFiles, 'out.txt')), 'the executor wrote no file');
        await row(page, doomed.id).locator('[data-testid="action-delete"]').click();
        await page.locator('[data-testid="delete-files"]').check();
        await page.locator('[data-testid="delete-confirm"]').click();
        await row(page, doomed.id).waitFor({ state: 'detached' });
        assert.equal(existsSync(doomedFiles), false, 'output files were kept');
        await assert.rejects(server.client.getTask(doomed.id), /not found/);

        await page.locator('[data-testid="cleanup-menu"]').click();
        await page.locator('[data-testid="cleanup-completed"]').click();
        await page.locator('[data-testid="cleanup-confirm"]').click();
        await row(page, finished.id).waitFor({ state: 'detached' });
        await rowWithStatus(page, running.id, 'running').waitFor();
        assert.equal((await server.client.getTask(running.id)).status, 'running');
        assert.deepEqual(errors, []);
      } finally {
        await context.close();
      }
    });
  });

  describe('on a server with a token', () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer({ config: { token: TOKEN } });
    });

    after(async () => {
      await server.dispose();
    });

    test('the console asks for the token, then loads the list and the live feed with it', async () => {
      const task = await server.client.createTask('epsilon', { label: 'behind-a-token' });
      await waitForStatus(server.client, task.id, ['completed']);
      const { page, context, errors } = await openConsole(server.url, REFUSED_WITHOUT_TOKEN);
      try {
        const modal = page.locator('[data-testid="login-token"]');
        await modal.waitFor();
        assert.equal(await row(page, task.id).count(), 0);

        await modal.fill(TOKEN);
        await page.locator('[data-testid="login-submit"]').click();
        await rowWithStatus(page, task.id, 'completed').waitFor();
        await waitForLive(page);
        assert.equal(await page.evaluate('localStorage.getItem("tailor.token")'), TOKEN);

        const live = await server.client.createTask('epsilon', { label: 'after-login' });
        await rowWithStatus(page, live.id, 'completed').waitFor();
        assert.deepEqual(errors, []);
      } finally {
        await context.close();
      }
    });

    test('a ?token= in the page URL is stored and removed from the address bar', async () => {
      const { page, context, errors } = await openConsole(
        `${server.url}/?token=${encodeURIComponent(TOKEN)}`,
      );
      try {
        await waitForLive(page);
        await page
          .locator('[data-testid="task-table"] [data-testid^="task-row-"]')
          .first()
          .waitFor();
        assert.equal(new URL(page.url()).search, '');
        assert.equal(await page.evaluate('localStorage.getItem("tailor.token")'), TOKEN);
        assert.equal(await page.locator('[data-testid="login-token"]').isVisible(), false);
        assert.deepEqual(errors, []);
      } finally {
        await context.close();
      }
    });
  });
});
