/**
 * `npm run demo`: the whole workflow in a minute, without a GPU, a Pixiv account or a model
 * download. It starts the test suite's fakes on 127.0.0.1 — an SD WebUI, Pixiv (API and image
 * host) and a tiny WD14 tagger model — and a server against them, labelled as a demo in its log,
 * `/health` and the console, then queues a generation, a crawl and the tagging of what the crawl
 * downloaded. The fakes are test code: nothing else ever starts them.
 *
 * Data goes to `.tmp/demo` (emptied at each start) unless TAILOR_DATA_DIR says otherwise; the
 * port is TAILOR_PORT or 50052. Ctrl-C stops everything.
 */
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import WebSocket from 'ws';
import { TailorClient, type SocketFactory } from '../src/client/index.js';
import { loadConfig } from '../src/config/config.js';
import { builtInModules } from '../src/executors/index.js';
import { createLogger, resolveLogFormat } from '../src/logging.js';
import { moduleSettings, startServer } from '../src/server.js';
import { FakePixiv } from '../test/fakes/pixiv.js';
import { FakeSdWebui } from '../test/fakes/sd-webui.js';
import { installWd14Model } from '../test/fakes/wd14-model.js';

const dataDir = resolve(process.env.TAILOR_DATA_DIR || '.tmp/demo');
rmSync(dataDir, { recursive: true, force: true });

/** Artworks of the fake Pixiv: real JPEGs whose colours the fake tagger tells apart. */
const COLOURS: [number, number, number][] = [
  [220, 40, 40],
  [40, 90, 220],
  [40, 180, 70],
  [230, 200, 40],
  [160, 60, 200],
  [240, 240, 240],
];

async function artwork(rgb: [number, number, number]): Promise<Buffer> {
  const [r, g, b] = rgb;
  return sharp({ create: { width: 600, height: 850, channels: 3, background: { r, g, b } } })
    .jpeg({ quality: 85 })
    .toBuffer();
}

const webui = await FakeSdWebui.start({ stepDelayMs: 60, imageSize: 64 });
const pixiv = await FakePixiv.start();
const ids: string[] = [];
for (const [i, rgb] of COLOURS.entries()) {
  const id = String(120_000_000 + i);
  await pixiv.addWork(id, {
    title: `デモ作品 ${i + 1}`,
    userName: 'demo painter',
    pages: [await artwork(rgb)],
    exts: ['jpg'],
  });
  ids.push(id);
}
pixiv.searches.set('風景', ids);
const modelsDir = join(dataDir, 'models');
installWd14Model(modelsDir, 'demo-tagger');

const config = loadConfig(
  {
    dataDir,
    modelsDir,
    sdWebuiUrl: webui.url,
    pixivApiBase: pixiv.url,
    wd14Model: 'demo-tagger',
  },
  process.env,
  undefined,
  moduleSettings(builtInModules),
);
const logger = createLogger(config.logLevel, process.stdout, resolveLogFormat(config.logFormat));
logger.warn(
  { webui: webui.url, pixiv: pixiv.url, models: modelsDir },
  'DEMO MODE: SD WebUI, Pixiv and the tagger are fakes on 127.0.0.1; nothing here is real',
);
const server = await startServer({ config, logger, demo: true });

const client = new TailorClient({
  baseUrl: server.url,
  token: config.token,
  // Node 20 has no global WebSocket; the CLI uses `ws` the same way.
  WebSocket: WebSocket as unknown as SocketFactory,
});
const { configs } = await client.call<{ configs: { id: string; name: string }[] }>(
  '/api/configs?name=Portrait',
  undefined,
  'GET',
);
const portrait = configs[0];
if (portrait) {
  await client.call('/api/generate-with-config', {
    config_id: portrait.id,
    override: { steps: 30, batch_size: 2 },
  });
}
const crawl = await client.call<{ id: string }>('/api/crawl/create', {
  crawl_type: 'tag',
  query: '風景',
  limit: COLOURS.length,
  delay: 0.3,
});
console.log(`\n  Demo running at ${server.url}/ — console, and ${server.url}/docs for the API.`);
console.log('  Queued: a generation, a crawl of 風景, then the tagging of what it downloads.');
console.log('  Ctrl-C stops the server and the fakes.\n');

// Tag the crawl's folder once it is there (the tag lane does not wait for the crawl lane).
const feed = await client.connect();
feed.onMessage((message) => {
  if (message.type !== 'task_status' || message.task_id !== crawl.id) return;
  if (message.status !== 'completed') return;
  void client
    .call('/api/tag/create', { input_task_id: crawl.id, threshold: 0.3 })
    .catch((error: unknown) => logger.error({ err: error }, 'demo: could not queue the tag task'));
});
feed.subscribeTask(crawl.id);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  feed.close();
  void server
    .close()
    .then(() => Promise.all([webui.close(), pixiv.close()]))
    .then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
