import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { UserFacingError } from '../../../domain/errors';

export interface JenkinsClientOptions {
  /** Jenkins' root URL, e.g. https://ci.example.com/ or https://example.com/jenkins/. */
  url: string;
  user: string;
  apiToken: string;
  /** Attempts for a request answered 5xx or not answered at all (connection refused/reset). */
  attempts?: number;
  /** First backoff delay; doubles per attempt, capped at 8x. */
  backoffMs?: number;
  /** Per-request deadline. */
  requestTimeoutMs?: number;
}

export interface JenkinsRequest {
  method?: 'GET' | 'POST' | 'DELETE';
  /** Path below the root URL (`/job/x/api/json`) or an absolute URL on the same Jenkins. */
  path: string;
  query?: Record<string, string>;
  body?: string | URLSearchParams;
  contentType?: string;
  /** Statuses the caller handles itself instead of getting an error (e.g. 404 while an item is gone). */
  accept?: number[];
  signal?: AbortSignal;
  /** Streams a 2xx body into this file instead of reading it as text. */
  toFile?: string;
}

export interface JenkinsResponse {
  status: number;
  headers: Headers;
  text: string;
}

interface Crumb {
  field: string;
  value: string;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * Jenkins' REST API as documented: HTTP basic with a user's API token, a CSRF crumb from
 * /crumbIssuer/api/json on every POST together with the session cookie it was issued for, 5xx and
 * connection failures retried with exponential backoff, 401/403 turned into a clear error.
 */
export class JenkinsClient {
  readonly root: URL;
  private readonly auth: string;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly requestTimeoutMs: number;
  private readonly cookies = new Map<string, string>();
  private crumb: Crumb | null | undefined;

  constructor(private readonly opts: JenkinsClientOptions) {
    this.root = new URL(opts.url.endsWith('/') ? opts.url : `${opts.url}/`);
    this.auth = `Basic ${Buffer.from(`${opts.user}:${opts.apiToken}`).toString('base64')}`;
    this.attempts = opts.attempts ?? 5;
    this.backoffMs = opts.backoffMs ?? 500;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
  }

  /** Resolves a Jenkins path (or absolute URL) against the root URL, refusing URLs on another host. */
  url(path: string, query?: Record<string, string>): URL {
    const url = /^https?:\/\//.test(path) ? new URL(path) : new URL(path.replace(/^\/+/, ''), this.root);
    if (url.origin !== this.root.origin) throw new UserFacingError(`Jenkins pointed at ${url.origin}, which is not ${this.root.origin}`, 502, 'jenkins_error');
    for (const [key, value] of Object.entries(query ?? {})) url.searchParams.set(key, value);
    return url;
  }

  async json<T>(path: string, signal?: AbortSignal): Promise<T> {
    const res = await this.request({ path, signal });
    try {
      return JSON.parse(res.text) as T;
    } catch {
      throw new UserFacingError(`Jenkins answered ${path} with something that is not JSON`, 502, 'jenkins_error');
    }
  }

  async request(req: JenkinsRequest): Promise<JenkinsResponse> {
    const method = req.method ?? 'GET';
    let crumbRefreshed = false;
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      const headers: Record<string, string> = { Authorization: this.auth };
      if (req.contentType) headers['Content-Type'] = req.contentType;
      if (method !== 'GET') {
        const crumb = await this.getCrumb(req.signal);
        if (crumb) headers[crumb.field] = crumb.value;
      }
      try {
        if (this.cookies.size > 0) headers.Cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
        const signals = [AbortSignal.timeout(this.requestTimeoutMs), ...(req.signal ? [req.signal] : [])];
        res = await fetch(this.url(req.path, req.query), { method, headers, body: req.body, redirect: 'manual', signal: AbortSignal.any(signals) });
      } catch (err) {
        if (req.signal?.aborted) throw err;
        if (attempt >= this.attempts) {
          throw new UserFacingError(`Jenkins at ${this.root.origin} could not be reached: ${(err as Error).message}`, 502, 'jenkins_unreachable');
        }
        await this.backoff(attempt, req.signal);
        continue;
      }
      this.keepCookies(res.headers);
      if (req.toFile && res.ok && res.body) {
        await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), createWriteStream(req.toFile));
        return { status: res.status, headers: res.headers, text: '' };
      }
      const text = await res.text();
      if (res.status >= 500 && !(req.accept ?? []).includes(res.status)) {
        if (attempt >= this.attempts) {
          throw new UserFacingError(`Jenkins answered ${res.status} to ${method} ${req.path} (after ${attempt} attempts)`, 502, 'jenkins_error');
        }
        await this.backoff(attempt, req.signal);
        continue;
      }
      if (res.status === 403 && method !== 'GET' && !crumbRefreshed && /crumb/i.test(text)) {
        // Crumbs are tied to the session and expire with it: fetch a fresh one once.
        this.crumb = undefined;
        crumbRefreshed = true;
        attempt--;
        continue;
      }
      if (res.status === 401 || res.status === 403) {
        throw new UserFacingError(`Jenkins refused the credentials for user ${this.opts.user} (HTTP ${res.status} on ${req.path})`, 502, 'jenkins_auth');
      }
      if (res.status >= 400 && !(req.accept ?? []).includes(res.status)) {
        throw new UserFacingError(`Jenkins answered ${res.status} to ${method} ${req.path}: ${firstLine(text)}`, 502, 'jenkins_error');
      }
      return { status: res.status, headers: res.headers, text };
    }
  }

  async download(path: string, file: string, signal?: AbortSignal): Promise<void> {
    await this.request({ path, toFile: file, signal });
  }

  private async getCrumb(signal?: AbortSignal): Promise<Crumb | null> {
    if (this.crumb !== undefined) return this.crumb;
    const res = await this.request({ path: 'crumbIssuer/api/json', accept: [404], signal });
    if (res.status === 404) {
      // CSRF protection is off on this Jenkins (no crumb issuer): POSTs need no crumb.
      this.crumb = null;
      return null;
    }
    const body = JSON.parse(res.text) as { crumb?: string; crumbRequestField?: string };
    if (!body.crumb || !body.crumbRequestField) throw new UserFacingError('Jenkins issued a crumb without a value or header name', 502, 'jenkins_error');
    this.crumb = { field: body.crumbRequestField, value: body.crumb };
    return this.crumb;
  }

  private keepCookies(headers: Headers) {
    for (const cookie of headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const eq = pair.indexOf('=');
      if (eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }

  private backoff(attempt: number, signal?: AbortSignal) {
    return sleep(this.backoffMs * 2 ** Math.min(attempt - 1, 3), signal);
  }
}

function firstLine(text: string): string {
  const line = text.replace(/<[^>]*>/g, ' ').split('\n').map((l) => l.trim()).find(Boolean) ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

export { sleep };
