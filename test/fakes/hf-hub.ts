import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake Hugging Face hub on 127.0.0.1: `GET /{owner}/{repo}/resolve/{revision}/{file}` answers
 * with a 302 to a `/cdn/…` URL (as the hub redirects to its CDN), which serves the bytes with
 * `Range: bytes=N-` support (206 + Content-Range, 416 past the end).
 *
 * `cutAfter(bytes, times)` makes the next `times` downloads announce the full length, send only
 * `bytes` bytes and then destroy the connection — a download interrupted mid-way.
 */
export interface RecordedDownload {
  path: string;
  range: string | null;
  status: number;
}

export class FakeHfHub {
  readonly requests: RecordedDownload[] = [];
  private cut: { bytes: number; times: number } | null = null;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly files: Map<string, Buffer>,
  ) {}

  /** `files` maps `owner/repo/file` to its bytes. */
  static async start(files: Record<string, Uint8Array>): Promise<FakeHfHub> {
    const map = new Map(Object.entries(files).map(([k, v]) => [k, Buffer.from(v)]));
    let fake: FakeHfHub | null = null;
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const range = req.headers.range ?? null;
      const record = (status: number): void => {
        fake!.requests.push({ path: url.pathname, range, status });
      };
      const resolveMatch = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
      if (resolveMatch) {
        const key = `${resolveMatch[1]}/${resolveMatch[3]}`;
        if (!map.has(key)) {
          record(404);
          res.writeHead(404).end('Entry not found');
          return;
        }
        record(302);
        res.writeHead(302, { location: `/cdn/${key}` }).end();
        return;
      }
      const cdnMatch = /^\/cdn\/(.+)$/.exec(url.pathname);
      const body = cdnMatch ? map.get(cdnMatch[1]!) : undefined;
      if (!body) {
        record(404);
        res.writeHead(404).end();
        return;
      }
      let start = 0;
      const asked = range ? /^bytes=(\d+)-$/.exec(range) : null;
      if (asked) {
        start = Number(asked[1]);
        if (start >= body.length) {
          record(416);
          res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
          return;
        }
      }
      const status = asked ? 206 : 200;
      record(status);
      const headers: Record<string, string | number> = {
        'content-length': body.length - start,
        'content-type': 'application/octet-stream',
        'accept-ranges': 'bytes',
      };
      if (asked) headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
      res.writeHead(status, headers);
      const cut = fake!.cut;
      if (cut && cut.times > 0) {
        cut.times--;
        res.write(body.subarray(start, Math.min(body.length, start + cut.bytes)), () => {
          // Let the bytes reach the client before the connection breaks.
          setTimeout(() => res.destroy(), 20);
        });
        return;
      }
      res.end(body.subarray(start));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    fake = new FakeHfHub(server, `http://127.0.0.1:${port}`, map);
    return fake;
  }

  cutAfter(bytes: number, times = 1): void {
    this.cut = { bytes, times };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }
}
