import type WebSocket from 'ws';
import { ApiError } from './apiError';
import type { DeploymentStatus } from './status';
import type { EndMessage, LogMessage, RuntimeLogLine, TokenSource } from './types';

export interface ReconnectInfo {
  /** 1 for the first retry after a drop, counting up until a message arrives again. */
  attempt: number;
  /** The seq the next connection asks to resume after. */
  since: number;
  delayMs: number;
  reason: string;
}

/** How a resumable stream connects and retries; shared by deployment logs and runtime logs. */
export interface StreamTransportOptions {
  onReconnect?(info: ReconnectInfo): void;
  WebSocketImpl?: typeof WebSocket;
  /** Backoff between reconnects: doubles from initialMs up to maxMs. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Give up after this long without any message from the server (across reconnects). */
  giveUpAfterMs?: number;
  /** A connection that carries neither data nor pings for this long is treated as dropped. */
  idleTimeoutMs?: number;
}

export interface StreamLogsOptions extends StreamTransportOptions {
  baseUrl: string;
  token: TokenSource;
  deploymentId: string;
  /** Resume after this seq (lines with seq <= since are not delivered). */
  since?: number;
  /** Every log line exactly once and in seq order, plus status changes and the final `end`. */
  onMessage(message: LogMessage): void;
  signal?: AbortSignal;
}

export interface StreamResult {
  status: DeploymentStatus;
  url?: string;
  error?: string;
  lastSeq: number;
}

export function logStreamUrl(baseUrl: string, deploymentId: string, since: number): string {
  return wsUrl(baseUrl, `/api/deployments/${encodeURIComponent(deploymentId)}/logs`, since);
}

export function runtimeLogStreamUrl(baseUrl: string, app: string, since: number): string {
  return wsUrl(baseUrl, `/api/apps/${encodeURIComponent(app)}/runtime-logs/stream`, since);
}

function wsUrl(baseUrl: string, path: string, since: number): string {
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}${path}`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('since', String(since));
  return url.toString();
}

/**
 * Follows a deployment's log over the API's WebSocket until the server sends `end`, reconnecting with
 * `since=<last seq>` whenever the connection drops, so the caller sees every line once and in order.
 * Resolves with the final status; rejects on a refused upgrade (401/404), on abort, or after giveUpAfterMs
 * without hearing from the server.
 */
export async function streamLogs(options: StreamLogsOptions): Promise<StreamResult> {
  let end: EndMessage | undefined;
  const lastSeq = await followResumable<LogMessage>({
    ...options,
    label: `the log stream of ${options.deploymentId}`,
    url: (since) => logStreamUrl(options.baseUrl, options.deploymentId, since),
    since: options.since ?? 0,
    seqOf: (message) => (message.type === 'log' ? message.seq : undefined),
    firstSeqMayJump: false,
    deliver: (message) => {
      options.onMessage(message);
      if (message.type !== 'end') return false;
      end = message;
      return true;
    },
  });
  // followResumable only resolves after deliver() returned true, i.e. on `end`.
  const final = end as EndMessage;
  return { status: final.status, url: final.url ?? undefined, error: final.error ?? undefined, lastSeq };
}

export interface FollowRuntimeLogsOptions extends StreamTransportOptions {
  /** Resume after this seq (lines with seq <= since are not delivered). */
  since?: number;
  /** Every line once and in seq order (lines the server already dropped for retention are skipped). */
  onLine(line: RuntimeLogLine): void;
  /** The follow stopped for good: refused (401/404) or the API unreachable for giveUpAfterMs. Not called on close(). */
  onError?(err: Error): void;
}

export interface RuntimeLogFollower {
  close(): void;
}

/** Follows an app's runtime log (it has no end) until close(), reconnecting with `since` on drops. */
export function followRuntimeLogs(
  target: { baseUrl: string; token: TokenSource; app: string },
  options: FollowRuntimeLogsOptions,
): RuntimeLogFollower {
  const controller = new AbortController();
  followResumable<RuntimeLogLine>({
    ...options,
    token: target.token,
    signal: controller.signal,
    label: `the runtime log of ${target.app}`,
    url: (since) => runtimeLogStreamUrl(target.baseUrl, target.app, since),
    since: options.since ?? 0,
    seqOf: (line) => line.seq,
    // The server keeps a bounded window per app: a backlog may begin past `since` because older lines were dropped.
    firstSeqMayJump: true,
    deliver: (line) => {
      options.onLine(line);
      return false;
    },
  }).catch((err: unknown) => {
    if (!controller.signal.aborted) options.onError?.(err instanceof Error ? err : new Error(String(err)));
  });
  return {
    close: () => {
      controller.abort();
    },
  };
}

interface ResumableOptions<M> extends StreamTransportOptions {
  /** What is followed, for error messages. */
  label: string;
  url(since: number): string;
  token: TokenSource;
  since: number;
  signal?: AbortSignal;
  /** The seq a message carries, or undefined for messages outside the sequence (status, end). */
  seqOf(message: M): number | undefined;
  /** Accept a jump at the first sequenced message of each connection instead of treating it as a gap. */
  firstSeqMayJump: boolean;
  /** Every message once and in order; returns true when the stream is complete. */
  deliver(message: M): boolean;
}

/**
 * The reconnecting WebSocket reader under both log streams: resumes with `since=<last seq>` after a drop,
 * drops duplicates, refills a gap by one reconnect, and resolves with the last seq once deliver() says done.
 */
function followResumable<M>(options: ResumableOptions<M>): Promise<number> {
  const Impl = options.WebSocketImpl ?? loadWs();
  const initialMs = options.backoff?.initialMs ?? 250;
  const maxMs = options.backoff?.maxMs ?? 5_000;
  const giveUpAfterMs = options.giveUpAfterMs ?? 5 * 60_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 45_000;
  const { signal } = options;

  let lastSeq = options.since;
  let attempt = 0;
  let lastHeard = Date.now();
  // A gap means lines were lost in transit; one reconnect from lastSeq refills it. Remember where, so a server
  // whose seqs really are sparse cannot make us loop.
  let gapRetriedAt = -1;

  return new Promise<number>((resolve, reject) => {
    let socket: WebSocket | undefined;
    let retryTimer: NodeJS.Timeout | undefined;
    let idleTimer: NodeJS.Timeout | undefined;
    let settled = false;
    const isSettled = (): boolean => settled;

    const cleanup = () => {
      settled = true;
      clearTimeout(retryTimer);
      clearTimeout(idleTimer);
      signal?.removeEventListener('abort', onAbort);
      if (socket) {
        socket.removeAllListeners();
        socket.on('error', () => undefined);
        if (socket.readyState === Impl.OPEN || socket.readyState === Impl.CONNECTING) socket.terminate();
      }
    };
    const succeed = () => {
      if (settled) return;
      cleanup();
      resolve(lastSeq);
    };
    const fail = (err: Error) => {
      if (settled) return;
      cleanup();
      reject(err);
    };
    const onAbort = () => {
      fail(abortError(signal));
    };

    const armIdle = () => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => socket?.terminate(), idleTimeoutMs);
    };

    const scheduleReconnect = (reason: string) => {
      if (settled) return;
      if (Date.now() - lastHeard > giveUpAfterMs) {
        fail(new ApiError(0, 'unreachable', `lost ${options.label}: ${reason}`));
        return;
      }
      attempt += 1;
      const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 16));
      const delayMs = Math.round(base / 2 + Math.random() * (base / 2));
      options.onReconnect?.({ attempt, since: lastSeq, delayMs, reason });
      retryTimer = setTimeout(() => void connect(), delayMs);
    };

    /** Returns false when this connection must be dropped (frames already buffered on it are then ignored). */
    const handle = (message: M, firstOfConnection: boolean): boolean => {
      const seq = options.seqOf(message);
      if (seq !== undefined) {
        if (seq <= lastSeq) return true;
        const jumpAllowed = firstOfConnection && options.firstSeqMayJump;
        if (seq > lastSeq + 1 && !jumpAllowed && gapRetriedAt !== lastSeq) {
          gapRetriedAt = lastSeq;
          return false;
        }
        lastSeq = seq;
      }
      if (options.deliver(message)) succeed();
      return true;
    };

    const connect = async () => {
      if (settled) return;
      let token: string;
      try {
        token = await options.token();
      } catch (err) {
        fail(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (isSettled()) return; // read through a function: TypeScript keeps the narrowing from before the await
      const ws = new Impl(options.url(lastSeq), {
        headers: { authorization: `Bearer ${token}` },
        handshakeTimeout: 15_000,
      });
      socket = ws;
      let dropReason = 'connection closed';
      let dropped = false;
      let sequenced = false;
      armIdle();
      ws.on('unexpected-response', (_req, res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const error = parseError(status, Buffer.concat(chunks).toString('utf8'));
          // Auth and visibility do not change by retrying; server errors and proxies' 502s might.
          if (status === 401 || status === 403 || status === 404) fail(error);
          else {
            dropReason = error.message;
            ws.terminate();
          }
        });
        res.on('error', () => {
          ws.terminate();
        });
      });
      ws.on('open', () => {
        lastHeard = Date.now();
        armIdle();
      });
      ws.on('ping', armIdle);
      ws.on('message', (data) => {
        if (dropped) return;
        lastHeard = Date.now();
        attempt = 0;
        armIdle();
        let message: M;
        try {
          message = JSON.parse((data as Buffer).toString()) as M;
        } catch {
          return;
        }
        const first = !sequenced && options.seqOf(message) !== undefined;
        if (first) sequenced = true;
        if (!handle(message, first)) {
          dropped = true;
          dropReason = `missing log lines after seq ${lastSeq}`;
          ws.terminate();
        }
      });
      ws.on('error', (err) => {
        dropReason = err.message || dropReason;
      });
      ws.on('close', (code) => {
        clearTimeout(idleTimer);
        if (settled || socket !== ws) return;
        scheduleReconnect(code === 1006 || code === 1005 ? dropReason : `${dropReason} (code ${code})`);
      });
    };

    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    void connect();
  });
}

/**
 * `ws` is required on first use rather than imported at the top: the extension bundles this module, and
 * evaluating ws there would cost every VS Code window at activation, before any log is followed.
 */
function loadWs(): typeof WebSocket {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, for the reason above
  return (require('ws') as { WebSocket: typeof WebSocket }).WebSocket;
}

function parseError(status: number, body: string): ApiError {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: string; message?: string } };
    if (parsed.error?.message) return new ApiError(status, parsed.error.code ?? 'error', parsed.error.message);
  } catch {
    // not JSON
  }
  return new ApiError(status, `http_${status}`, `log stream refused with HTTP ${status}`);
}

function abortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error) return reason;
  const err = new Error('log stream aborted');
  err.name = 'AbortError';
  return err;
}
