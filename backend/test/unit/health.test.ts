import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { freePort, HealthCheckError, LogBuffer, waitHealthy } from '../../src/health/health';

function serve(handler: http.RequestListener): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer(handler);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server });
    }),
  );
}

function stop(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
}

describe('health', () => {
  describe('waitHealthy', () => {
    it('accepts any status below 500, on / or the configured path', async () => {
      const paths: string[] = [];
      const { url, server } = await serve((req, res) => {
        paths.push(req.url ?? '');
        res.statusCode = req.url === '/healthz' ? 204 : 404;
        res.end();
      });
      try {
        await waitHealthy(url, { timeoutMs: 5_000 });
        await waitHealthy(url, { timeoutMs: 5_000, path: 'healthz' });
        assert.deepEqual(paths, ['/', '/healthz']);
      } finally {
        await stop(server);
      }
    });

    it('waits for an app that starts listening later', async () => {
      const port = await freePort();
      const server = http.createServer((_req, res) => res.end('ok'));
      // Starts listening only after a few refused probes.
      setTimeout(() => server.listen(port, '127.0.0.1'), 300);
      try {
        await waitHealthy(`http://127.0.0.1:${port}`, { timeoutMs: 20_000 });
      } finally {
        await stop(server);
      }
    });

    it('backs off only over answered probes: an app that answers 503 once it listens is asked again soon', async () => {
      const port = await freePort();
      const answered: number[] = [];
      const server = http.createServer((_req, res) => {
        answered.push(Date.now());
        res.statusCode = answered.length < 3 ? 503 : 200;
        res.end();
      });
      // A second of refused probes first: at the refused pace, ~40 of them.
      setTimeout(() => server.listen(port, '127.0.0.1'), 1000);
      try {
        await waitHealthy(`http://127.0.0.1:${port}`, { timeoutMs: 20_000 });
        assert.equal(answered.length, 3);
        // 50 ms, then 75 ms, on an idle machine; backing off over the refused probes made it 2 s each.
        assert.ok(answered[2] - answered[0] < 1500, `asked again within ${answered[2] - answered[0]} ms`);
      } finally {
        await stop(server);
      }
    });

    it('fails after the deadline with the last answer seen', async () => {
      const { url, server } = await serve((_req, res) => {
        res.statusCode = 503;
        res.end();
      });
      try {
        await assert.rejects(waitHealthy(url, { timeoutMs: 400 }), (err: unknown) => {
          assert.ok(err instanceof HealthCheckError);
          assert.equal(err.failure, 'timeout');
          assert.match(err.message, /no response below 500 within 0.4 s; last check: it answered 503 on \//);
          return true;
        });
      } finally {
        await stop(server);
      }
    });

    it('names a refused connection', async () => {
      const url = `http://127.0.0.1:${await freePort()}`;
      await assert.rejects(waitHealthy(url, { timeoutMs: 300 }), /connection refused/);
    });

    it('stops early once the app is no longer alive', async () => {
      const url = `http://127.0.0.1:${await freePort()}`;
      let alive = true;
      setTimeout(() => (alive = false), 200);
      await assert.rejects(waitHealthy(url, { timeoutMs: 60_000, isAlive: () => alive }), (err: unknown) => {
        assert.ok(err instanceof HealthCheckError);
        assert.equal(err.failure, 'exited');
        return true;
      });
    });

    it('stops when cancelled', async () => {
      const url = `http://127.0.0.1:${await freePort()}`;
      const controller = new AbortController();
      setTimeout(() => {
        controller.abort();
      }, 200);
      await assert.rejects(waitHealthy(url, { timeoutMs: 60_000, signal: controller.signal }), (err: unknown) => {
        assert.ok(err instanceof HealthCheckError);
        assert.equal(err.failure, 'cancelled');
        return true;
      });
    });
  });

  it('freePort returns a port that can be bound on loopback', async () => {
    const port = await freePort();
    assert.ok(port > 0 && port < 65536);
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        resolve();
      });
    });
    await new Promise((resolve) => server.close(resolve));
  });

  it('LogBuffer keeps the newest lines in order', () => {
    const buffer = new LogBuffer(3);
    assert.deepEqual(buffer.tail(), []);
    buffer.push('a');
    buffer.push('b');
    assert.deepEqual(buffer.tail(), ['a', 'b']);
    buffer.push('c');
    buffer.push('d');
    buffer.push('e');
    assert.deepEqual(buffer.tail(), ['c', 'd', 'e']);
    assert.deepEqual(buffer.tail(2), ['d', 'e']);
    assert.deepEqual(buffer.tail(10), ['c', 'd', 'e']);
    assert.deepEqual(buffer.tail(0), []);
    assert.throws(() => new LogBuffer(0));
  });
});
