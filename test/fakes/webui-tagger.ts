import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp, { type Stats } from 'sharp';

/**
 * A fake WebUI with the tagger extension on 127.0.0.1: `GET /tagger/v1/interrogators` and
 * `POST /tagger/v1/interrogate {image, model, threshold}`. It decodes the image and scores it by
 * its mean colour (red → red_hair, blue → blue_eyes), answering in the original flat shape
 * (ratings mixed in among the tags) or the newer `{tag, rating}` shape. Like the extension, it
 * leaves out tags below the threshold it was sent.
 *
 * Test controls: `shape`, `delayMs` per interrogation, every request recorded, requests whose
 * client went away counted in `aborted`, those being answered in `inFlight`, an unreadable image
 * answered with HTTP 500.
 */
export type TaggerShape = 'flat' | 'nested';

export interface InterrogateCall {
  model: string;
  threshold: number;
  bytes: number;
}

export const TAGGER_MODELS = ['wd14-vit-v2-git', 'wd-v1-4-moat-tagger.v2'];

export class FakeWebuiTagger {
  readonly calls: InterrogateCall[] = [];
  aborted = 0;
  /** Interrogations received and not yet answered. */
  inFlight = 0;
  shape: TaggerShape;
  delayMs: number;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    options: { shape: TaggerShape; delayMs: number },
  ) {
    this.shape = options.shape;
    this.delayMs = options.delayMs;
  }

  static async start(
    options: { shape?: TaggerShape; delayMs?: number } = {},
  ): Promise<FakeWebuiTagger> {
    let fake: FakeWebuiTagger | null = null;
    const server = createServer((req, res) => {
      void fake!.handle(req, res);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    fake = new FakeWebuiTagger(server, `http://127.0.0.1:${port}`, {
      shape: options.shape ?? 'flat',
      delayMs: options.delayMs ?? 0,
    });
    return fake;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown): void => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url === '/tagger/v1/interrogators') {
      send(200, { models: TAGGER_MODELS });
      return;
    }
    if (req.method !== 'POST' || req.url !== '/tagger/v1/interrogate') {
      send(404, { detail: 'Not Found' });
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      image: string;
      model: string;
      threshold: number;
    };
    const image = Buffer.from(body.image, 'base64');
    this.calls.push({ model: body.model, threshold: body.threshold, bytes: image.length });
    this.inFlight++;
    let gone = false;
    res.once('close', () => {
      this.inFlight--;
      if (!res.writableFinished) {
        gone = true;
        this.aborted++;
      }
    });
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (gone) return;
    let stats: Stats;
    try {
      stats = await sharp(image).stats();
    } catch {
      // What the extension answers when PIL cannot open the image.
      send(500, { error: 'UnidentifiedImageError', detail: 'cannot identify image file' });
      return;
    }
    const [r = 0, g = 0, b = 0] = stats.channels.map((c) => c.mean / 255);
    const tags: Record<string, number> = {
      '1girl': 0.9,
      red_hair: r > 0.5 && b < 0.5 ? 0.8 : 0.05,
      blue_eyes: b > 0.5 && r < 0.5 ? 0.7 : 0.05,
      '^_^': g > 0.5 ? 0.6 : 0.02,
      'smile_(happy)': 0.4,
    };
    const rating = { general: 0.2, sensitive: 0.7, questionable: 0.08, explicit: 0.02 };
    const kept = Object.fromEntries(
      Object.entries(tags).filter(([, score]) => score >= body.threshold),
    );
    send(
      200,
      this.shape === 'flat'
        ? { caption: { ...rating, ...kept } }
        : { caption: { tag: kept, rating } },
    );
  }
}
