import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { LogLine } from '../domain/deployment';
import { errorMessage, UserFacingError } from '../domain/errors';
import type { LogEvent } from '../domain/events';
import type { Store } from '../ports/store';
import type { Logger } from '../lib/logger';
import type { TokenGate } from './auth';
import { DEFAULT_LIMITS, LogSession, type SessionLimits, type SessionSource } from './logSession';
import { logView } from './views';

const PATH = /^\/api\/deployments\/([0-9a-f-]{36})\/logs$/;
const PING_MS = 15_000;

export interface HubDeps {
  store: Store;
  gate: TokenGate;
  logger: Logger;
  limits?: Partial<SessionLimits>;
}

/** What one kind of log stream is: its path, who may open it, where its lines are read, and how bus events reach it. */
export interface LogChannel<L extends { seq: number }, E> {
  path: RegExp;
  /** Resolves the path's id for the caller; throws a 404 UserFacingError when it is not theirs. */
  open(id: string, userId: string): Promise<{ key: string; source: SessionSource<L> }>;
  keyOf(event: E): string;
  deliver(event: E, session: LogSession<L>): void;
}

/**
 * Streams a log over WebSocket: stored lines after `since` first, then live lines from the bus (then, for a
 * deployment, its final status). Every message carries its seq, so a client that reconnects with `since` misses
 * nothing and sees nothing twice. Each subscriber is a LogSession: sends pause on its queue, and one that stops
 * reading is closed (resumably) instead of growing the platform's memory.
 */
export class LogStreamHub<L extends { seq: number }, E> {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  private readonly listeners = new Map<string, Set<(event: E) => void>>();
  private readonly pinger: NodeJS.Timeout;
  private readonly limits: SessionLimits;

  constructor(
    protected readonly deps: HubDeps,
    private readonly channel: LogChannel<L, E>,
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...deps.limits };
    this.pinger = setInterval(() => {
      for (const client of this.wss.clients) client.ping();
    }, PING_MS);
    this.pinger.unref();
  }

  /** Feed from the bus: every API instance receives every log event. */
  dispatch(event: E): void {
    for (const listener of this.listeners.get(this.channel.keyOf(event)) ?? []) listener(event);
  }

  handles(req: IncomingMessage): boolean {
    return this.channel.path.test(new URL(req.url ?? '/', 'http://x').pathname);
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.accept(req)
      .then(({ key, source, since }) => {
        this.wss.handleUpgrade(req, socket, head, (ws) => void this.stream(ws, key, source, since));
      })
      .catch((err: unknown) => {
        const status = err instanceof UserFacingError ? err.status : 500;
        const message = err instanceof UserFacingError ? err.message : 'internal error';
        const body = JSON.stringify({ error: { code: status === 401 ? 'unauthorized' : 'not_found', message } });
        socket.end(
          `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 404 ? 'Not Found' : 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      });
  }

  close(): void {
    clearInterval(this.pinger);
    for (const client of this.wss.clients) client.close(1001, 'server shutting down');
    this.wss.close();
  }

  private async accept(req: IncomingMessage): Promise<{ key: string; source: SessionSource<L>; since: number }> {
    const url = new URL(req.url ?? '/', 'http://x');
    const caller = await this.deps.gate.authenticate(req);
    const id = decodeURIComponent(this.channel.path.exec(url.pathname)?.[1] ?? '');
    const { key, source } = await this.channel.open(id, caller.user.id);
    const since = Number(url.searchParams.get('since') ?? 0);
    return { key, source, since: Number.isInteger(since) && since >= 0 ? since : 0 };
  }

  private async stream(ws: WebSocket, key: string, source: SessionSource<L>, since: number): Promise<void> {
    const { logger } = this.deps;
    const session = new LogSession(
      ws,
      since,
      source,
      (err) => {
        logger.warn('log stream failed', { error: errorMessage(err) });
        ws.close(1011, 'log stream failed');
      },
      this.limits,
    );
    const listener = (event: E) => {
      this.channel.deliver(event, session);
    };
    this.listen(key, listener);
    ws.on('close', () => {
      this.unlisten(key, listener);
    });
    try {
      await session.start();
    } catch (err) {
      logger.warn('log replay failed', { error: errorMessage(err) });
      ws.close(1011, 'log replay failed');
    }
  }

  private listen(key: string, listener: (event: E) => void): void {
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(listener);
  }

  private unlisten(key: string, listener: (event: E) => void): void {
    const set = this.listeners.get(key);
    set?.delete(listener);
    if (set?.size === 0) this.listeners.delete(key);
  }
}

/** A deployment's build and deploy log, then its final status. */
export class LogHub extends LogStreamHub<LogLine, LogEvent> {
  constructor(deps: HubDeps) {
    super(deps, {
      path: PATH,
      open: async (id, userId) => {
        const deployment = await deps.store.getDeployment(id);
        if (!deployment || deployment.ownerId !== userId) throw new UserFacingError(`deployment ${id} not found`, 404);
        return {
          key: deployment.id,
          source: {
            readLogs: (after, limit) => deps.store.readLogs(deployment.id, after, limit),
            readStatus: async () => {
              const current = await deps.store.getDeployment(deployment.id);
              return current && { status: current.status, url: current.url, error: current.error };
            },
            view: logView,
          },
        };
      },
      keyOf: (event) => event.deploymentId,
      deliver: (event, session) => {
        if (event.kind === 'status') session.onStatus({ status: event.status, url: event.url, error: event.error });
        else session.onLines(event.lines);
      },
    });
  }
}
