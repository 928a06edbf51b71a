/**
 * The `crawl` module: Pixiv artworks with their metadata, from a tag search, a user's works, one
 * artwork or a ranking (`POST /api/crawl/create`, `tailor crawl …`). Settings: `PIXIV_API_BASE`
 * and `PIXIV_COOKIE` (secret); the proxy is the core `TAILOR_PROXY`, or a task's own `proxy_url`.
 */
import { defineExecutorModule, type ExecutorModule } from '../module.js';
import { crawlCli } from './cli.js';
import { Crawl } from './crawl.js';
import { DEFAULT_TIMING, type CrawlTiming } from './pixiv-client.js';
import { prepareCrawlConfig } from './prepare.js';
import { crawlRoutes } from './routes.js';
import { CrawlConfigSchema, type CrawlConfig } from './schema.js';

const SETTINGS = {
  pixivApiBase: {
    env: 'PIXIV_API_BASE',
    default: 'https://www.pixiv.net',
    description: 'Pixiv web AJAX API base (tests point it at a local fake)',
  },
  pixivCookie: {
    env: 'PIXIV_COOKIE',
    secret: true,
    description: 'Pixiv session cookie (PHPSESSID=…) for crawls that name none',
  },
};

export interface CrawlModuleOptions {
  /** Back-off and timeout constants; tests shrink them to assert the rules quickly. */
  timing?: Partial<CrawlTiming>;
}

export function createCrawlModule(options: CrawlModuleOptions = {}): ExecutorModule {
  const timing: CrawlTiming = { ...DEFAULT_TIMING, ...options.timing };
  return defineExecutorModule<CrawlConfig, typeof SETTINGS>({
    type: 'crawl',
    description: 'Download Pixiv artworks (tag search, user, artwork, ranking) with their metadata',
    schema: CrawlConfigSchema,
    settings: SETTINGS,
    executor: (ctx) => {
      const roots = { dataDir: ctx.dataDir, imageRoots: ctx.imageRoots };
      return {
        prepare: (input) => prepareCrawlConfig(input, roots),
        run: (runCtx) =>
          new Crawl(runCtx, {
            apiBase: ctx.settings.pixivApiBase,
            defaultCookie: ctx.settings.pixivCookie,
            roots,
            timing,
          }).run(),
      };
    },
    routes: (ctx) => async (app) => {
      await app.register(crawlRoutes, {
        tasks: ctx.tasks,
        roots: { dataDir: ctx.dataDir, imageRoots: ctx.imageRoots },
      });
    },
    cli: crawlCli,
  });
}

export const crawlModule = createCrawlModule();
