import type { DeploymentView } from '@cloudsmith/client';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import { startPlatform, type Platform, type Role } from '../../src/compose/platform';
import type { Builder } from '../../src/ports/builder';
import type { EventBus } from '../../src/ports/bus';
import { apiRequest, type ApiResponse } from './apiRequest';
import { ALICE, BOB, SourceHost, waitForStatus, type TestUser } from './sourceHost';

export const FIXTURES = join(__dirname, '..', 'fixtures');

export type { TestUser } from './sourceHost';

export interface WorldOptions {
  /** Extra environment for loadConfig (adapter choices, limits). */
  env?: Record<string, string>;
  roles?: Role[];
  builder?: Builder;
  /** An in-process bus shared with other platforms of other roles. */
  bus?: EventBus;
}

/**
 * A whole platform for end-to-end tests: GitHub (a SourceHost) and the platform itself in a temp data dir,
 * in this process, talking HTTP like a client would.
 */
export class World {
  platform!: Platform;
  readonly alice = ALICE;
  readonly bob = BOB;
  private port = 0;

  private constructor(
    readonly host: SourceHost,
    readonly dataDir: string,
    private readonly options: WorldOptions,
  ) {}

  static async start(options: WorldOptions = {}): Promise<World> {
    const host = await SourceHost.start([ALICE, BOB]);
    const world = new World(host, mkdtempSync(join(tmpdir(), 'cloudsmith-e2e-')), options);
    await world.boot();
    return world;
  }

  get git() {
    return this.host.git;
  }

  get github() {
    return this.host.github;
  }

  get url(): string {
    return this.platform.url;
  }

  config(extra: Record<string, string> = {}) {
    return loadConfig({
      ...this.host.platformEnv(this.dataDir),
      PORT: String(this.port),
      CLOUDSMITH_HEALTH_TIMEOUT_MS: '20000',
      CLOUDSMITH_TOKEN_CACHE_MS: '1000',
      ...this.options.env,
      ...extra,
    });
  }

  /** Commits a fixture as a repo owned by `owner`, granted to them (private repos are invisible to others). */
  async addRepo(
    fullName: string,
    fixture: string,
    opts: { private?: boolean; owner?: TestUser } = {},
  ): Promise<string> {
    return this.host.addRepo(fullName, join(FIXTURES, fixture), opts);
  }

  api<T = unknown>(user: TestUser | undefined, method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    return apiRequest<T>(this.url, user?.token, method, path, body);
  }

  async deploy(user: TestUser, body: Record<string, unknown>): Promise<DeploymentView> {
    const res = await this.api<DeploymentView>(user, 'POST', '/api/deployments', body);
    if (res.status !== 202) throw new Error(`deploy refused: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** Polls until the deployment reaches one of `statuses` (default: any terminal one). */
  async waitFor(
    user: TestUser,
    id: string,
    statuses?: readonly string[],
    timeoutMs = 180_000,
  ): Promise<DeploymentView> {
    const read = async () => (await this.api<DeploymentView | undefined>(user, 'GET', `/api/deployments/${id}`)).body;
    return waitForStatus(read, {
      statuses,
      timeoutMs,
      pollMs: 100,
      describe: (last) => `deployment ${id} still ${last?.status} after ${timeoutMs} ms`,
    });
  }

  async logText(user: TestUser, id: string): Promise<string> {
    const res = await this.api<string>(user, 'GET', `/api/deployments/${id}/logs`);
    const raw = typeof res.body === 'string' ? res.body : JSON.stringify(res.body);
    return raw
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { text: string }).text)
      .join('\n');
  }

  /** Stops the platform and starts it again on the same data dir and port, as a restart of `npm start` would. */
  async restart(extraEnv: Record<string, string> = {}): Promise<void> {
    await this.platform.close();
    await this.boot(extraEnv);
  }

  async close(): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when start() failed before booting
    await this.platform?.close();
    await this.host.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  private async boot(extraEnv: Record<string, string> = {}): Promise<void> {
    this.platform = await startPlatform({
      config: this.config(extraEnv),
      roles: this.options.roles,
      builder: this.options.builder,
      bus: this.options.bus,
      logger: silentLogger,
    });
    this.port = this.platform.port;
  }
}

const silentLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: (m: string, f?: Record<string, unknown>) => {
    console.error(m, f);
  },
};
