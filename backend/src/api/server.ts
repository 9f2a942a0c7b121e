import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import express, { type Router } from 'express';
import type { createReverseProxy } from '../proxy/reverseProxy';
import type { Logger } from '../lib/logger';
import type { LogHub } from './logHub';
import type { RuntimeLogHub } from '../runtimeLogs/runtimeLogHub';
import { apiRouter, type RouteDeps } from './routes';

export type ReverseProxy = ReturnType<typeof createReverseProxy>;

export interface ServerDeps {
  routes?: RouteDeps;
  /** GitHub webhooks and their settings: before the API's token gate, which GitHub's deliveries do not pass. */
  webhooks?: Router;
  logHub?: LogHub;
  runtimeLogHub?: RuntimeLogHub;
  proxy?: ReverseProxy;
  logger: Logger;
  health: () => Record<string, unknown>;
}

/**
 * One port for everything: requests for `<app>.<domain>` go to the reverse proxy, the rest to the API
 * (`/api/...`, `/healthz`) and the log WebSocket.
 */
export function createPlatformServer(deps: ServerDeps): Server {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true, ...deps.health() });
  });
  if (deps.webhooks) app.use('/api', deps.webhooks);
  if (deps.routes) app.use('/api', apiRouter(deps.routes));
  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: 'not found' } });
  });

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const target = deps.proxy?.appFor(req.headers.host);
    if (target && deps.proxy) deps.proxy.web(req, res, target);
    else app(req, res);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const target = deps.proxy?.appFor(req.headers.host);
    if (target && deps.proxy) deps.proxy.upgrade(req, socket, head, target);
    else if (deps.logHub?.handles(req)) deps.logHub.upgrade(req, socket, head);
    else if (deps.runtimeLogHub?.handles(req)) deps.runtimeLogHub.upgrade(req, socket, head);
    else socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  // Log streams are long-lived; builds can take minutes between lines.
  server.requestTimeout = 0;
  server.headersTimeout = 30_000;
  return server;
}
