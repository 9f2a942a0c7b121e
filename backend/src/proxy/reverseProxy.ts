import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { RouteTable } from './routes';

export interface ReverseProxy {
  /** The app a request is for (`<app>.<appDomain>[:port]`), or undefined when it is for the platform itself. */
  appFor(host: string | undefined): string | undefined;
  web(req: http.IncomingMessage, res: http.ServerResponse, app: string): void;
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, app: string): void;
}

const APP_NAME = /^[a-z0-9-]{1,63}$/;

/** Connection-scoped headers (RFC 9110 §7.6.1): they describe one hop and must not be forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
  // Node's server already answered `100 Continue` to the client; the app must not be asked again.
  'expect',
]);

const FORWARDED = new Set(['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto']);

/**
 * Host-header routing from `<app>.<appDomain>` to the app's current target in the route table.
 * Bodies stream both ways (nothing is buffered, so uploads, downloads and server-sent events keep
 * their pace), and WebSocket upgrades are passed through as raw byte streams.
 */
export function createReverseProxy(opts: {
  routes: RouteTable;
  appDomain: string;
  /** Told about every request served to a deployed app: its status (502 when the app did not answer) and duration. */
  onRequest?: (app: string, status: number, ms: number) => void;
}): ReverseProxy {
  const { routes } = opts;
  const suffix = `.${opts.appDomain.toLowerCase().replace(/^\.+|\.+$/g, '')}`;
  // Its own agent without keep-alive: a pooled socket to a release that was just retired would fail the next request.
  const agent = new http.Agent({ keepAlive: false });

  function appFor(host: string | undefined): string | undefined {
    if (!host) return undefined;
    let name = host.trim().toLowerCase();
    if (name.startsWith('[')) return undefined;
    name = name.replace(/:\d*$/, '').replace(/\.$/, '');
    if (!name.endsWith(suffix)) return undefined;
    const app = name.slice(0, -suffix.length);
    return APP_NAME.test(app) ? app : undefined;
  }

  function web(req: http.IncomingMessage, res: http.ServerResponse, app: string): void {
    const target = routes.get(app);
    if (!target) {
      req.resume();
      sendPage(res, 404, 'App not found', `No app named “${app}” is deployed here.`);
      return;
    }
    const done = routes.track(target);
    res.on('close', done);
    const started = performance.now();
    res.on('close', () => {
      opts.onRequest?.(app, res.headersSent ? res.statusCode : 502, performance.now() - started);
    });

    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name) && !FORWARDED.has(name)) headers[name] = value;
    }
    Object.assign(headers, forwardedHeaders(req));

    const upstream = http.request(
      { host: target.host, port: target.port, method: req.method, path: req.url, headers, agent },
      (answer) => {
        const out: http.OutgoingHttpHeaders = {};
        for (const [name, value] of Object.entries(answer.headers)) {
          // Node frames the body for the client itself (chunked or not) from content-length.
          if (value !== undefined && !HOP_BY_HOP.has(name) && name !== 'transfer-encoding') out[name] = value;
        }
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, out);
        // Send the head now when the body streams (server-sent events, chunked output): its first chunk may take a while.
        if (answer.headers['content-length'] === undefined) res.flushHeaders();
        answer.on('error', () => res.destroy());
        answer.on('aborted', () => res.destroy());
        answer.pipe(res);
      },
    );
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      const why =
        err.code === 'ECONNREFUSED' ? 'is not accepting connections' : 'closed the connection without answering';
      sendPage(res, 502, 'Bad gateway', `The app “${app}” ${why}. It may be restarting; try again in a moment.`);
    });
    // A client that goes away mid-request or mid-response must not leave the upstream request open.
    req.on('error', () => upstream.destroy());
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  function upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, app: string): void {
    const target = routes.get(app);
    socket.on('error', () => socket.destroy());
    if (!target) {
      socket.end(rawResponse(404, 'Not Found'));
      return;
    }
    let connected = false;
    const upstream = net.connect(target.port, target.host);
    upstream.on('error', () => {
      if (connected) socket.destroy();
      else socket.end(rawResponse(502, 'Bad Gateway'));
    });
    upstream.on('connect', () => {
      connected = true;
      upstream.setNoDelay(true);
      upstream.write(requestHead(req));
      if (head.length > 0) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
  }

  return { appFor, web, upgrade };
}

function forwardedHeaders(req: http.IncomingMessage): Record<string, string> {
  const client = req.socket.remoteAddress ?? '';
  const prior = req.headers['x-forwarded-for'];
  const chain = [prior ? String(prior) : '', client].filter(Boolean).join(', ');
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
  return {
    'x-forwarded-for': chain,
    'x-forwarded-host': req.headers.host ?? '',
    'x-forwarded-proto': encrypted ? 'https' : 'http',
  };
}

/** The upgrade request as the app must receive it: the client's headers (Connection/Upgrade included) plus X-Forwarded-*. */
function requestHead(req: http.IncomingMessage): string {
  const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i];
    if (!FORWARDED.has(name.toLowerCase())) lines.push(`${name}: ${req.rawHeaders[i + 1]}`);
  }
  for (const [name, value] of Object.entries(forwardedHeaders(req))) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function rawResponse(status: number, text: string): string {
  return `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`;
}

function sendPage(res: http.ServerResponse, status: number, title: string, message: string): void {
  const body =
    `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
    `<body style="font-family:sans-serif;margin:3em"><h1>${status} ${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>` +
    '<p><small>CloudSmith</small></p></body></html>\n';
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
