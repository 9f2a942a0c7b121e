import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { Deployment } from '../domain/deployment';
import { errorMessage, UserFacingError } from '../domain/errors';
import type { LogEvent } from '../domain/events';
import type { Store } from '../ports/store';
import type { Logger } from '../lib/logger';
import type { TokenGate } from './auth';
import { DEFAULT_LIMITS, LogSession, type SessionLimits } from './logSession';

const PATH = /^\/api\/deployments\/([0-9a-f-]{36})\/logs$/;
const PING_MS = 15_000;

type Listener = (event: LogEvent) => void;

/**
 * Streams a deployment's log over WebSocket: stored lines after `since` first, then live lines from the bus,
 * then the final status. Every message carries its seq, so a client that reconnects with `since` misses
 * nothing and sees nothing twice. Each subscriber is a LogSession: sends pause on its queue, and one that stops
 * reading is closed (resumably) instead of growing the platform's memory.
 */
export class LogHub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly pinger: NodeJS.Timeout;
  private readonly limits: SessionLimits;

  constructor(
    private readonly deps: { store: Store; gate: TokenGate; logger: Logger; limits?: Partial<SessionLimits> },
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...deps.limits };
    this.pinger = setInterval(() => {
      for (const client of this.wss.clients) client.ping();
    }, PING_MS);
    this.pinger.unref();
  }

  /** Feed from the bus: every API instance receives every deployment's log events. */
  dispatch(event: LogEvent): void {
    for (const listener of this.listeners.get(event.deploymentId) ?? []) listener(event);
  }

  handles(req: IncomingMessage): boolean {
    return PATH.test(new URL(req.url ?? '/', 'http://x').pathname);
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.accept(req)
      .then(({ deployment, since }) => {
        this.wss.handleUpgrade(req, socket, head, (ws) => void this.stream(ws, deployment, since));
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

  private async accept(req: IncomingMessage): Promise<{ deployment: Deployment; since: number }> {
    const url = new URL(req.url ?? '/', 'http://x');
    const caller = await this.deps.gate.authenticate(req);
    const id = PATH.exec(url.pathname)?.[1] ?? '';
    const deployment = await this.deps.store.getDeployment(id);
    if (!deployment || deployment.ownerId !== caller.user.id)
      throw new UserFacingError(`deployment ${id} not found`, 404);
    const since = Number(url.searchParams.get('since') ?? 0);
    return { deployment, since: Number.isInteger(since) && since >= 0 ? since : 0 };
  }

  private async stream(ws: WebSocket, deployment: Deployment, since: number): Promise<void> {
    const { store, logger } = this.deps;
    const session = new LogSession(
      ws,
      since,
      {
        readLogs: (after, limit) => store.readLogs(deployment.id, after, limit),
        readStatus: async () => {
          const current = await store.getDeployment(deployment.id);
          return current && { status: current.status, url: current.url, error: current.error };
        },
      },
      (err) => {
        logger.warn('log stream failed', { error: errorMessage(err) });
        ws.close(1011, 'log stream failed');
      },
      this.limits,
    );
    const listener: Listener = (event) => {
      session.onEvent(event);
    };
    this.listen(deployment.id, listener);
    ws.on('close', () => {
      this.unlisten(deployment.id, listener);
    });
    try {
      await session.start();
    } catch (err) {
      logger.warn('log replay failed', { error: errorMessage(err) });
      ws.close(1011, 'log replay failed');
    }
  }

  private listen(id: string, listener: Listener): void {
    let set = this.listeners.get(id);
    if (!set) this.listeners.set(id, (set = new Set()));
    set.add(listener);
  }

  private unlisten(id: string, listener: Listener): void {
    const set = this.listeners.get(id);
    set?.delete(listener);
    if (set?.size === 0) this.listeners.delete(id);
  }
}
