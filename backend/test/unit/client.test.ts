import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  ApiError,
  CloudSmithClient,
  logStreamUrl,
  streamLogs,
  type LogLineMessage,
  type LogMessage,
  type ReconnectInfo,
} from '@cloudsmith/client';

const TOKEN = 'ghp_client_test_token';
const ID = '00000000-0000-4000-8000-000000000001';

interface Connection {
  since: number;
  auth: string | undefined;
}

/**
 * A tiny log server with the API's contract (replay after `since`, then `end`, close 1000) whose behaviour per
 * connection is scripted by the test: drop mid-stream, replay overlapping lines, skip a line.
 */
async function logServer(script: (ws: WebSocket, conn: Connection, index: number) => void) {
  const connections: Connection[] = [];
  const server = http.createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      const body = JSON.stringify({ error: { code: 'unauthorized', message: 'bad token' } });
      socket.end(
        `HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    assert.equal(url.pathname, `/api/deployments/${ID}/logs`);
    const conn = { since: Number(url.searchParams.get('since')), auth: req.headers.authorization };
    connections.push(conn);
    wss.handleUpgrade(req, socket, head, (ws) => {
      script(ws, conn, connections.length - 1);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      server.closeAllConnections();
      await new Promise<void>((r) =>
        server.close(() => {
          r();
        }),
      );
    },
  };
}

const line = (seq: number): LogLineMessage => ({
  type: 'log',
  seq,
  ts: new Date(0).toISOString(),
  stage: 'build',
  text: `line ${seq}`,
});
const send = (ws: WebSocket, m: LogMessage) => {
  ws.send(JSON.stringify(m));
};

describe('client: streamLogs', () => {
  it('reassembles a stream dropped mid-way: every line once, in order, resumed with since', async () => {
    const TOTAL = 20;
    const srv = await logServer((ws, conn, index) => {
      if (index === 0) {
        for (let s = 1; s <= 7; s++) send(ws, line(s));
        // An abrupt drop (no close frame), as a crashed API replica or a network cut gives.
        setTimeout(() => {
          (ws as unknown as { _socket: { destroy(): void } })._socket.destroy();
        }, 20);
        return;
      }
      // Replays a little before `since` on purpose: the client must drop the overlap.
      send(ws, { type: 'status', status: 'building' });
      for (let s = Math.max(1, conn.since - 2); s <= TOTAL; s++) send(ws, line(s));
      send(ws, { type: 'end', status: 'live', url: 'http://app.localhost:8080' });
      ws.close(1000, 'live');
    });
    try {
      const seen: number[] = [];
      const statuses: string[] = [];
      const reconnects: ReconnectInfo[] = [];
      const result = await streamLogs({
        baseUrl: srv.url,
        token: async () => TOKEN,
        deploymentId: ID,
        backoff: { initialMs: 10, maxMs: 50 },
        onMessage: (m) => (m.type === 'log' ? seen.push(m.seq) : statuses.push(`${m.type}:${m.status}`)),
        onReconnect: (info) => reconnects.push(info),
      });
      assert.deepEqual(
        seen,
        Array.from({ length: TOTAL }, (_, i) => i + 1),
      );
      assert.deepEqual(result, { status: 'live', url: 'http://app.localhost:8080', error: undefined, lastSeq: TOTAL });
      assert.deepEqual(statuses, ['status:building', 'end:live']);
      assert.equal(reconnects.length, 1);
      assert.equal(reconnects[0].since, 7);
      assert.deepEqual(
        srv.connections.map((c) => c.since),
        [0, 7],
      );
      assert.ok(srv.connections.every((c) => c.auth === `Bearer ${TOKEN}`));
    } finally {
      await srv.close();
    }
  });

  it('refills a gap by reconnecting from the last contiguous seq', async () => {
    const srv = await logServer((ws, conn, index) => {
      const seqs = index === 0 ? [1, 2, 4, 5] : [3, 4, 5, 6].filter((s) => s > conn.since);
      for (const s of seqs) send(ws, line(s));
      if (index > 0) {
        send(ws, { type: 'end', status: 'failed', error: 'build failed' });
        ws.close(1000);
      }
    });
    try {
      const seen: number[] = [];
      const result = await streamLogs({
        baseUrl: srv.url,
        token: () => TOKEN,
        deploymentId: ID,
        backoff: { initialMs: 10, maxMs: 50 },
        onMessage: (m) => {
          if (m.type === 'log') seen.push(m.seq);
        },
      });
      assert.deepEqual(seen, [1, 2, 3, 4, 5, 6]);
      assert.equal(result.status, 'failed');
      assert.equal(result.error, 'build failed');
      assert.deepEqual(
        srv.connections.map((c) => c.since),
        [0, 2],
      );
    } finally {
      await srv.close();
    }
  });

  it('starts after the given since', async () => {
    const srv = await logServer((ws, conn) => {
      for (let s = conn.since + 1; s <= 5; s++) send(ws, line(s));
      send(ws, { type: 'end', status: 'live' });
      ws.close(1000);
    });
    try {
      const seen: number[] = [];
      await streamLogs({
        baseUrl: srv.url,
        token: () => TOKEN,
        deploymentId: ID,
        since: 3,
        onMessage: (m) => {
          if (m.type === 'log') seen.push(m.seq);
        },
      });
      assert.deepEqual(seen, [4, 5]);
    } finally {
      await srv.close();
    }
  });

  it("rejects a refused upgrade with the server's error, without retrying", async () => {
    const srv = await logServer(() => assert.fail('must not upgrade'));
    try {
      let reconnects = 0;
      await assert.rejects(
        streamLogs({
          baseUrl: srv.url,
          token: () => 'wrong',
          deploymentId: ID,
          onMessage: () => undefined,
          onReconnect: () => reconnects++,
        }),
        (err: unknown) =>
          err instanceof ApiError && err.status === 401 && err.code === 'unauthorized' && err.message === 'bad token',
      );
      assert.equal(reconnects, 0);
    } finally {
      await srv.close();
    }
  });

  it('stops when aborted, and gives up on a server that never comes back', async () => {
    const srv = await logServer((ws) => {
      send(ws, line(1));
    });
    try {
      const controller = new AbortController();
      const pending = streamLogs({
        baseUrl: srv.url,
        token: () => TOKEN,
        deploymentId: ID,
        signal: controller.signal,
        onMessage: () => {
          controller.abort();
        },
      });
      await assert.rejects(pending, (err: Error) => err.name === 'AbortError');
    } finally {
      await srv.close();
    }
    // Nothing listens on the closed port: connection refused on every attempt.
    await assert.rejects(
      streamLogs({
        baseUrl: srv.url,
        token: () => TOKEN,
        deploymentId: ID,
        onMessage: () => undefined,
        backoff: { initialMs: 5, maxMs: 20 },
        giveUpAfterMs: 200,
      }),
      (err: unknown) => err instanceof ApiError && err.unreachable,
    );
  });

  it('builds ws and wss URLs from the API base URL', () => {
    assert.equal(
      logStreamUrl('http://127.0.0.1:8080/', 'abc', 4),
      'ws://127.0.0.1:8080/api/deployments/abc/logs?since=4',
    );
    assert.equal(
      logStreamUrl('https://api.example.com/base', 'abc', 0),
      'wss://api.example.com/base/api/deployments/abc/logs?since=0',
    );
  });
});

describe('client: CloudSmithClient', () => {
  async function apiServer(handler: http.RequestListener) {
    const server = http.createServer(handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
      url,
      close: () =>
        new Promise<void>((r) =>
          server.close(() => {
            r();
          }),
        ),
    };
  }

  it('sends the token as a Bearer header and JSON bodies, and parses answers', async () => {
    const seen: Array<{ method?: string; url?: string; auth?: string; body: string }> = [];
    const srv = await apiServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
        res.setHeader('content-type', 'application/json');
        if (req.url?.endsWith('/env')) res.end(JSON.stringify({ env: { API_KEY: 'sk…89' } }));
        else if (req.url?.endsWith('/logs')) res.end(`${JSON.stringify(line(1))}\n${JSON.stringify(line(2))}\n`);
        else res.end(JSON.stringify({ id: ID, status: 'queued' }));
      });
    });
    try {
      const client = new CloudSmithClient({ baseUrl: `${srv.url}/`, token: async () => TOKEN });
      const d = await client.deploy({ repo: 'alice/site', ref: 'main', rootDir: 'web' });
      assert.equal(d.status, 'queued');
      assert.deepEqual(await client.getEnv('alice-site'), { API_KEY: 'sk…89' });
      assert.deepEqual(
        (await client.logs(ID)).map((l) => l.seq),
        [1, 2],
      );
      await client.listDeployments('alice/site');
      await client.rollback('alice-site', ID);
      assert.deepEqual(
        seen.map((s) => `${s.method} ${s.url}`),
        [
          'POST /api/deployments',
          'GET /api/apps/alice-site/env',
          `GET /api/deployments/${ID}/logs`,
          'GET /api/deployments?repo=alice%2Fsite',
          'POST /api/apps/alice-site/rollback',
        ],
      );
      assert.ok(seen.every((s) => s.auth === `Bearer ${TOKEN}`));
      assert.deepEqual(JSON.parse(seen[0].body), { repo: 'alice/site', ref: 'main', rootDir: 'web' });
      assert.deepEqual(JSON.parse(seen[4].body), { deploymentId: ID });
    } finally {
      await srv.close();
    }
  });

  it('throws ApiError from the JSON error body, and a status-0 ApiError when unreachable', async () => {
    const srv = await apiServer((_req, res) => {
      res.statusCode = 404;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ error: { code: 'not_found', message: 'deployment x not found' } }));
    });
    const client = new CloudSmithClient({ baseUrl: srv.url, token: () => TOKEN });
    try {
      await assert.rejects(
        client.getDeployment('x'),
        (err: unknown) =>
          err instanceof ApiError &&
          err.status === 404 &&
          err.code === 'not_found' &&
          err.message === 'deployment x not found',
      );
    } finally {
      await srv.close();
    }
    await assert.rejects(
      client.listApps(),
      (err: unknown) => err instanceof ApiError && err.unreachable && /unreachable/.test(err.message),
    );
  });
});
