import http from 'node:http';
import net from 'node:net';

export type HealthFailure = 'timeout' | 'exited' | 'cancelled';

/** Why a release never became healthy; `message` is written for the user and names what was last seen. */
export class HealthCheckError extends Error {
  constructor(
    readonly failure: HealthFailure,
    message: string,
  ) {
    super(message);
    this.name = 'HealthCheckError';
  }
}

export interface WaitHealthyOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Path probed instead of `/`. */
  path?: string;
  /** Checked between probes, so an app that crashed fails at once instead of after the whole deadline. */
  isAlive?: () => boolean;
}

// A new release is polled with backoff, so an app that counts or rate-limits its clients' requests sees only a few
// dozen probes even when it takes a minute to start (about 10 in the first 4 s, 40 in 60 s). A refused probe never
// reaches the app and costs a loopback connect: while nothing listens the pace is REFUSED_INTERVAL_MS, and only
// probes the app answered count towards the backoff. So the swap waits at most that long after the app starts
// listening (at 100 ms, a small app's deploy waited 75 ms of it), and an app that first answers 503 is asked again
// FIRST_INTERVAL_MS later.
const FIRST_INTERVAL_MS = 50;
const REFUSED_INTERVAL_MS = 25;
const BACKOFF_FACTOR = 1.5;
const MAX_INTERVAL_MS = 2_000;
const PROBE_TIMEOUT_MS = 5_000;

type Probe = { status: number } | { error: string; refused?: boolean; timedOut?: boolean };

/**
 * Resolves once `url` + path answers with any status below 500: the app is listening and not failing,
 * which is all a platform can know about an arbitrary app (a 404 on `/` is a healthy API, and a 301/302
 * to a login page or a trailing slash is healthy: redirects are not followed). Polls with backoff.
 */
export async function waitHealthy(url: string, opts: WaitHealthyOptions): Promise<void> {
  const target = new URL(normalizePath(opts.path), url.endsWith('/') ? url : `${url}/`);
  const deadline = Date.now() + opts.timeoutMs;
  let interval = FIRST_INTERVAL_MS;
  let last: Probe | undefined;
  for (;;) {
    if (opts.signal?.aborted)
      throw new HealthCheckError('cancelled', 'cancelled while waiting for the app to become healthy');
    if (opts.isAlive && !opts.isAlive())
      throw new HealthCheckError('exited', 'the app exited before it became healthy');
    const remaining = deadline - Date.now();
    // The first check always runs to its end: on a busy machine a short deadline still says what the app answered.
    if (last && remaining <= 0) throw timedOut(last, target, opts.timeoutMs);
    const cut = last !== undefined && remaining < PROBE_TIMEOUT_MS;
    const seen = await probe(target, cut ? remaining : PROBE_TIMEOUT_MS, opts.signal);
    // A probe the deadline cut short tells less than the app's answer before it, which the error then names.
    if (!(cut && 'timedOut' in seen && last && 'status' in last)) last = seen;
    if ('status' in last && last.status < 500) return;
    // The probe may have failed because the app died meanwhile; report that rather than a refused connection.
    if (opts.isAlive && !opts.isAlive())
      throw new HealthCheckError('exited', 'the app exited before it became healthy');
    const refused = 'refused' in seen && seen.refused === true;
    await sleep(Math.min(refused ? REFUSED_INTERVAL_MS : interval, Math.max(0, deadline - Date.now())), opts.signal);
    // Only probes that reach the app count towards the backoff: at the refused pace it would be at its slowest before
    // the app first answered, and a 503 while it warms up would hold the swap back for seconds.
    if (!refused) interval = Math.min(interval * BACKOFF_FACTOR, MAX_INTERVAL_MS);
  }
}

function timedOut(last: Probe, target: URL, timeoutMs: number): HealthCheckError {
  const seen =
    'status' in last ? `it answered ${last.status} on ${target.pathname}` : `${target.pathname}: ${last.error}`;
  return new HealthCheckError(
    'timeout',
    `no response below 500 within ${formatSeconds(timeoutMs)}; last check: ${seen}`,
  );
}

function normalizePath(path: string | undefined): string {
  if (!path) return '/';
  // Relative to the origin only: a health path must not point the probe at another host.
  return `/${path.replace(/^\/+/, '')}`;
}

function probe(url: URL, timeoutMs: number, signal?: AbortSignal): Promise<Probe> {
  return new Promise((resolve) => {
    const req = http.get(
      url,
      { agent: false, timeout: timeoutMs, signal, headers: { 'user-agent': 'cloudsmith-health' } },
      (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0 });
      },
    );
    let timedOut = false;
    req.on('timeout', () => {
      timedOut = true;
      req.destroy(new Error(`no answer within ${formatSeconds(timeoutMs)}`));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      const refused = err.code === 'ECONNREFUSED';
      const error = refused ? 'connection refused (nothing listening on PORT yet)' : err.message;
      resolve(timedOut ? { error, timedOut } : { error, refused });
    });
  });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

/** A port free on loopback right now; the app binds it moments later (the kernel does not hand it out again that fast). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => {
        if (port) resolve(port);
        else reject(new Error('could not allocate a port'));
      });
    });
  });
}

/** The last `max` lines of an app's output, kept in a fixed-size ring so a chatty app cannot grow memory. */
export class LogBuffer {
  private readonly lines: string[] = [];
  private next = 0;

  constructor(private readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new Error('LogBuffer size must be a positive integer');
  }

  push(line: string): void {
    if (this.lines.length < this.max) this.lines.push(line);
    else this.lines[this.next] = line;
    this.next = (this.next + 1) % this.max;
  }

  /** The newest `n` lines (all kept lines by default), oldest first. */
  tail(n: number = this.max): string[] {
    const ordered =
      this.lines.length < this.max
        ? this.lines.slice()
        : [...this.lines.slice(this.next), ...this.lines.slice(0, this.next)];
    return n >= ordered.length ? ordered : ordered.slice(ordered.length - Math.max(0, n));
  }
}
