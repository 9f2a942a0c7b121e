import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitHealthy } from '../../src/health/health';

/** The health gate must not harm apps: it backs off, and a redirect from the health path is healthy. */
describe('stacks: health check policy', function () {
  this.timeout(60_000);
  const servers: http.Server[] = [];
  after(() => {
    for (const s of servers) s.close();
  });

  async function serve(handler: http.RequestListener): Promise<string> {
    const server = http.createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('a 301 or 302 from the health path counts as healthy', async () => {
    for (const status of [301, 302]) {
      const url = await serve((_req, res) => {
        res.writeHead(status, { location: '/login' });
        res.end();
      });
      await waitHealthy(url, { timeoutMs: 10_000, path: '/healthz' });
    }
  });

  it('polls a slow starter with backoff: few requests while it answers 503 for 4 s', async () => {
    let requests = 0;
    const started = Date.now();
    const url = await serve((_req, res) => {
      requests += 1;
      res.writeHead(Date.now() - started < 4000 ? 503 : 200);
      res.end();
    });
    await waitHealthy(url, { timeoutMs: 30_000 });
    // A fixed 100 ms poll would have sent about 40; a slow machine only sends fewer.
    assert.ok(requests <= 16, `the health check sent ${requests} requests in 4 s`);
  });
});
