import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { freePort } from '../../src/health/health';
import { createReverseProxy } from '../../src/proxy/reverseProxy';
import { RouteTable } from '../../src/proxy/routes';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      resolve((server.address() as AddressInfo).port);
    }),
  );
}

function close(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
}

describe('reverse proxy', () => {
  let routes: RouteTable;
  let proxyServer: http.Server;
  let proxyPort: number;
  let upstream: http.Server;
  let upstreamPort: number;
  let onUpstream: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  let wss: WebSocketServer;

  function request(
    app: string,
    path: string,
    init: { method?: string; body?: Buffer; headers?: http.OutgoingHttpHeaders } = {},
  ): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: proxyPort,
          path,
          method: init.method ?? 'GET',
          agent: false,
          headers: { host: `${app}.localhost:${proxyPort}`, ...init.headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(init.body);
    });
  }

  before(async () => {
    routes = new RouteTable();
    const proxy = createReverseProxy({ routes, appDomain: 'localhost' });
    proxyServer = http.createServer((req, res) => {
      const app = proxy.appFor(req.headers.host);
      if (app) proxy.web(req, res, app);
      else res.end('platform');
    });
    proxyServer.on('upgrade', (req, socket, head) => {
      const app = proxy.appFor(req.headers.host);
      if (app) proxy.upgrade(req, socket, head, app);
      else socket.destroy();
    });
    proxyPort = await listen(proxyServer);
    upstream = http.createServer((req, res) => {
      onUpstream(req, res);
    });
    wss = new WebSocketServer({ server: upstream });
    wss.on('connection', (ws, req) => {
      ws.send(`hello ${String(req.headers['x-forwarded-host'])}`);
      ws.on('message', (data, isBinary) => {
        ws.send(data, { binary: isBinary });
      });
    });
    upstreamPort = await listen(upstream);
    routes.set('echo', { host: '127.0.0.1', port: upstreamPort });
  });

  after(async () => {
    for (const client of wss.clients) client.terminate();
    wss.close();
    await close(upstream);
    await close(proxyServer);
  });

  it('routes by host name and leaves other hosts to the platform', () => {
    const proxy = createReverseProxy({ routes, appDomain: 'Apps.Example.com' });
    assert.equal(proxy.appFor('shop-1.apps.example.com'), 'shop-1');
    assert.equal(proxy.appFor('SHOP-1.Apps.Example.COM:8443'), 'shop-1');
    assert.equal(proxy.appFor('shop.apps.example.com.'), 'shop');
    assert.equal(proxy.appFor('apps.example.com'), undefined);
    assert.equal(proxy.appFor('a.b.apps.example.com'), undefined);
    assert.equal(proxy.appFor('shop_1.apps.example.com'), undefined);
    assert.equal(proxy.appFor('shop.apps.example.org'), undefined);
    assert.equal(proxy.appFor('[::1]:8080'), undefined);
    assert.equal(proxy.appFor(undefined), undefined);
    const local = createReverseProxy({ routes, appDomain: 'localhost' });
    assert.equal(local.appFor('my-app.localhost:8080'), 'my-app');
    assert.equal(local.appFor('localhost:8080'), undefined);
    assert.equal(local.appFor('127.0.0.1:8080'), undefined);
  });

  it('forwards method, path, headers and X-Forwarded-* both ways', async () => {
    onUpstream = (req, res) => {
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.setHeader('x-app', 'yes');
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
    };
    const answer = await request('echo', '/path?q=1', {
      method: 'DELETE',
      headers: { 'x-custom': 'v', 'x-forwarded-for': '10.0.0.9' },
    });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.headers['set-cookie'], ['a=1', 'b=2']);
    assert.equal(answer.headers['x-app'], 'yes');
    const seen = JSON.parse(answer.body) as { method: string; url: string; headers: Record<string, string> };
    assert.equal(seen.method, 'DELETE');
    assert.equal(seen.url, '/path?q=1');
    assert.equal(seen.headers['x-custom'], 'v');
    assert.equal(seen.headers.host, `echo.localhost:${proxyPort}`);
    assert.equal(seen.headers['x-forwarded-host'], `echo.localhost:${proxyPort}`);
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-for'], '10.0.0.9, 127.0.0.1');
  });

  it('streams a response: the first chunk arrives before the app has finished it', async () => {
    let finish!: () => void;
    const released = new Promise<void>((resolve) => (finish = resolve));
    onUpstream = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first;');
      // The rest is only written once the client has seen the first chunk, so a buffering proxy would hang here.
      void released.then(() => res.end('second'));
    };
    const body = await new Promise<string>((resolve, reject) => {
      const req = http.get(
        { host: '127.0.0.1', port: proxyPort, path: '/stream', agent: false, headers: { host: 'echo.localhost' } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
            if (text === 'first;') finish();
          });
          res.on('end', () => {
            resolve(text);
          });
        },
      );
      req.on('error', reject);
    });
    assert.equal(body, 'first;second');
  });

  it('streams a large upload through to the app', async () => {
    onUpstream = (req, res) => {
      const hash = createHash('sha256');
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        hash.update(chunk);
      });
      req.on('end', () =>
        res.end(JSON.stringify({ size, sha256: hash.digest('hex'), te: req.headers['transfer-encoding'] ?? null })),
      );
    };
    const payload = randomBytes(24 * 1024 * 1024);
    const expected = createHash('sha256').update(payload).digest('hex');
    const answer = await request('echo', '/upload', {
      method: 'POST',
      body: payload,
      headers: { 'content-length': payload.length },
    });
    assert.deepEqual(JSON.parse(answer.body), { size: payload.length, sha256: expected, te: null });

    // A chunked upload (no content-length) keeps its framing too.
    const chunked = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: proxyPort,
          path: '/upload',
          method: 'PUT',
          agent: false,
          headers: { host: 'echo.localhost' },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => {
            resolve(text);
          });
        },
      );
      req.on('error', reject);
      for (let i = 0; i < 64; i++) req.write(payload.subarray(i * 65536, (i + 1) * 65536));
      req.end();
    });
    const expectedChunked = createHash('sha256')
      .update(payload.subarray(0, 64 * 65536))
      .digest('hex');
    assert.deepEqual(JSON.parse(chunked), { size: 64 * 65536, sha256: expectedChunked, te: 'chunked' });
  });

  it('passes WebSockets through', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${proxyPort}/socket`, {
      headers: { host: `echo.localhost:${proxyPort}` },
    });
    const messages: string[] = [];
    const received = new Promise<void>((resolve, reject) => {
      ws.on('message', (data) => {
        messages.push((data as Buffer).toString());
        if (messages.length === 1) ws.send('ping over the proxy');
        if (messages.length === 2) resolve();
      });
      ws.on('error', reject);
    });
    await received;
    ws.close();
    assert.deepEqual(messages, [`hello echo.localhost:${proxyPort}`, 'ping over the proxy']);
  });

  it('answers 404 for an app that is not deployed, over HTTP and WebSocket', async () => {
    const answer = await request('nobody', '/');
    assert.equal(answer.status, 404);
    assert.match(answer.body, /No app named “nobody”/);
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${proxyPort}/`, { headers: { host: 'nobody.localhost' } });
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
      });
      ws.on('error', () => {
        resolve(-1);
      });
    });
    assert.equal(status, 404);
  });

  it('answers 502 when the app refuses the connection', async () => {
    routes.set('down', { host: '127.0.0.1', port: await freePort() });
    const answer = await request('down', '/');
    assert.equal(answer.status, 502);
    assert.match(answer.body, /not accepting connections/);
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${proxyPort}/`, { headers: { host: 'down.localhost' } });
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
      });
      ws.on('error', () => {
        resolve(-1);
      });
    });
    assert.equal(status, 502);
  });

  it('survives clients that go away mid-response and counts requests in flight', async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    onUpstream = (_req, res) => {
      res.write('partial');
      res.on('close', () => {
        upstreamClosed();
      });
    };
    const target = routes.get('echo');
    assert.ok(target);
    await new Promise<void>((resolve, reject) => {
      const req = http.get(
        { host: '127.0.0.1', port: proxyPort, path: '/', agent: false, headers: { host: 'echo.localhost' } },
        (res) => {
          res.once('data', () => {
            assert.equal(routes.inFlightTo(target), 1);
            req.destroy();
            resolve();
          });
        },
      );
      req.on('error', () => undefined);
      req.on('timeout', () => {
        reject(new Error('timeout'));
      });
    });
    // The proxy closes its side to the app too, and releases the in-flight count.
    await closed;
    await routes.drained(target, 10_000);
    assert.equal(routes.inFlightTo(target), 0);
    onUpstream = (_req, res) => res.end('still fine');
    assert.equal((await request('echo', '/')).body, 'still fine');
  });
});

describe('route table', () => {
  it('sets, replaces and deletes routes', () => {
    const routes = new RouteTable();
    routes.set('a', { host: '127.0.0.1', port: 1 });
    routes.set('a', { host: '127.0.0.1', port: 2 });
    assert.deepEqual(routes.get('a'), { host: '127.0.0.1', port: 2 });
    routes.delete('a');
    assert.equal(routes.get('a'), undefined);
  });

  it('reports a target drained once its last request ends, or at the timeout', async () => {
    const routes = new RouteTable();
    const target = { host: '127.0.0.1', port: 9 };
    const end1 = routes.track(target);
    const end2 = routes.track(target);
    let drained = false;
    const waiting = routes.drained(target, 60_000).then(() => (drained = true));
    end1();
    end1();
    await new Promise((r) => setImmediate(r));
    assert.equal(drained, false);
    end2();
    await waiting;
    assert.equal(routes.inFlightTo(target), 0);
    routes.track(target);
    await routes.drained(target, 10);
    assert.equal(routes.inFlightTo(target), 1);
  });
});
