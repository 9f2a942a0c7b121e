import { ApiError } from './apiError';
import { followRuntimeLogs, type FollowRuntimeLogsOptions, type RuntimeLogFollower } from './logStream';
import type {
  AppMetrics,
  AppView,
  DeploymentView,
  DeployRequest,
  HookRegistration,
  HookSettingsUpdate,
  HookSettingsView,
  LogLineMessage,
  RuntimeLogLine,
  TokenSource,
} from './types';

export { ApiError };

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ClientOptions {
  baseUrl: string;
  token: TokenSource;
  fetch?: FetchLike;
  /** Per-request deadline; an API that stops answering must not freeze the editor or the CLI. */
  timeoutMs?: number;
}

/** Typed access to the CloudSmith API, shared by the CLI and the VS Code extension. */
export class CloudSmithClient {
  readonly baseUrl: string;
  private readonly token: TokenSource;
  private readonly fetchImpl: FetchLike;
  private readonly timeoutMs: number;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token;
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  deploy(req: DeployRequest): Promise<DeploymentView> {
    return this.request('POST', '/api/deployments', req);
  }

  getDeployment(id: string): Promise<DeploymentView> {
    return this.request('GET', `/api/deployments/${seg(id)}`);
  }

  listDeployments(repo?: string, limit?: number): Promise<DeploymentView[]> {
    const query = new URLSearchParams();
    if (repo) query.set('repo', repo);
    if (limit) query.set('limit', String(limit));
    const qs = query.toString();
    return this.request('GET', `/api/deployments${qs ? `?${qs}` : ''}`);
  }

  cancel(id: string): Promise<DeploymentView> {
    return this.request('POST', `/api/deployments/${seg(id)}/cancel`);
  }

  redeploy(id: string): Promise<DeploymentView> {
    return this.request('POST', `/api/deployments/${seg(id)}/redeploy`);
  }

  rollback(app: string, deploymentId: string): Promise<DeploymentView> {
    return this.request('POST', `/api/apps/${seg(app)}/rollback`, { deploymentId });
  }

  /** Stops the app and deletes it (its deployment history stays readable). */
  async deleteApp(app: string): Promise<void> {
    await this.send('DELETE', `/api/apps/${seg(app)}`);
  }

  listApps(): Promise<AppView[]> {
    return this.request('GET', '/api/apps');
  }

  /** The preview apps of a production app (one per pull request or branch). */
  previews(app: string): Promise<AppView[]> {
    return this.request('GET', `/api/apps/${seg(app)}/previews`);
  }

  /** Turns push-to-deploy on (or rotates its secret); the answer carries the secret, once. */
  enableHook(app: string, body: { branch?: string } & HookSettingsUpdate = {}): Promise<HookSettingsView> {
    return this.request('POST', `/api/apps/${seg(app)}/hooks`, body);
  }

  hookSettings(app: string): Promise<HookSettingsView> {
    return this.request('GET', `/api/apps/${seg(app)}/hooks`);
  }

  putHookSettings(app: string, settings: HookSettingsUpdate): Promise<HookSettingsView> {
    return this.request('PUT', `/api/apps/${seg(app)}/hooks`, settings);
  }

  /** Asks GitHub to add the hook to the repo with the owner's token; says what to add by hand when it may not. */
  registerHook(app: string): Promise<HookRegistration> {
    return this.request('POST', `/api/apps/${seg(app)}/hooks/register`);
  }

  async disableHook(app: string): Promise<void> {
    await this.send('DELETE', `/api/apps/${seg(app)}/hooks`);
  }

  /** The app's env with values masked by the server (it never returns them in full). */
  async getEnv(app: string): Promise<Record<string, string>> {
    return (await this.request<{ env: Record<string, string> }>('GET', `/api/apps/${seg(app)}/env`)).env;
  }

  async putEnv(app: string, env: Record<string, string>): Promise<Record<string, string>> {
    return (await this.request<{ env: Record<string, string> }>('PUT', `/api/apps/${seg(app)}/env`, { env })).env;
  }

  /** The stored log so far (not live): one message per line, in seq order. */
  async logs(id: string, since = 0): Promise<LogLineMessage[]> {
    const res = await this.send('GET', `/api/deployments/${seg(id)}/logs${since > 0 ? `?since=${since}` : ''}`);
    return parseNdjson<LogLineMessage>(await res.text());
  }

  /** The app's own output kept so far (bounded per app), lines after `since`, in seq order. */
  async runtimeLogs(app: string, since = 0): Promise<RuntimeLogLine[]> {
    const res = await this.send('GET', `/api/apps/${seg(app)}/runtime-logs${since > 0 ? `?since=${since}` : ''}`);
    return parseNdjson<RuntimeLogLine>(await res.text());
  }

  /** Follows the app's output live (backlog after `since` first), reconnecting on drops until close(). */
  followRuntimeLogs(app: string, options: FollowRuntimeLogsOptions): RuntimeLogFollower {
    return followRuntimeLogs({ baseUrl: this.baseUrl, token: this.token, app }, options);
  }

  /** The last hour of the app's requests, latency, memory and restarts, per minute, and its health. */
  metrics(app: string): Promise<AppMetrics> {
    return this.request('GET', `/api/apps/${seg(app)}/metrics`);
  }

  /** GET /healthz: resolves when the API answers, throws ApiError otherwise. Needs no token. */
  async health(): Promise<void> {
    await this.send('GET', '/healthz', undefined, false);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.send(method, path, body);
    return (await res.json()) as T;
  }

  private async send(method: string, path: string, body?: unknown, authenticated = true): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (authenticated) headers.authorization = `Bearer ${await this.token()}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new ApiError(0, 'unreachable', `CloudSmith API at ${this.baseUrl} is unreachable: ${causeOf(err)}`);
    }
    if (!res.ok) throw await errorFrom(res);
    return res;
  }
}

async function errorFrom(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    // Any JSON may come back (a proxy's error page, an older API): each field is checked.
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } } | null;
    if (typeof parsed?.error?.message === 'string') {
      const code = typeof parsed.error.code === 'string' ? parsed.error.code : 'error';
      return new ApiError(res.status, code, parsed.error.message);
    }
  } catch {
    // Not JSON (a proxy's HTML page, say): fall through to a generic message.
  }
  return new ApiError(
    res.status,
    `http_${res.status}`,
    `CloudSmith API answered ${res.status} ${res.statusText}`.trim(),
  );
}

/** The network-level reason, e.g. "connect ECONNREFUSED 127.0.0.1:8080", rather than undici's "fetch failed". */
function causeOf(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError') return 'no answer in time';
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof Error && cause.message) return cause.message;
    return err.message;
  }
  return String(err);
}

function parseNdjson<T>(text: string): T[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

function seg(value: string): string {
  return encodeURIComponent(value);
}
