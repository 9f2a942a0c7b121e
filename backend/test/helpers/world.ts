import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import { startPlatform, type Platform, type Role } from '../../src/compose/platform';
import type { Builder } from '../../src/ports/builder';
import { apiRequest, type ApiResponse } from './apiRequest';
import { startGitServer } from './gitServer';
import { startGitHubStandin } from './githubStandin';

export const FIXTURES = join(__dirname, '..', 'fixtures');

export interface TestUser {
  login: string;
  token: string;
}

export interface WorldOptions {
  /** Extra environment for loadConfig (adapter choices, limits). */
  env?: Record<string, string>;
  roles?: Role[];
  builder?: Builder;
}

const ALICE: TestUser = { login: 'alice', token: 'ghp_alice_0123456789abcdefghijklmnopqrstuv' };
const BOB: TestUser = { login: 'bob', token: 'ghp_bob_0123456789abcdefghijklmnopqrstuvwx' };

type GitServer = Awaited<ReturnType<typeof startGitServer>>;
type GitHub = Awaited<ReturnType<typeof startGitHubStandin>>;

/**
 * A whole platform for end-to-end tests: a real git server (smart HTTP, token auth), the GitHub REST
 * stand-in in front of it, and the platform itself in a temp data dir, talking HTTP like a client would.
 */
export class World {
  platform!: Platform;
  readonly alice = ALICE;
  readonly bob = BOB;
  private port = 0;

  private constructor(
    readonly git: GitServer,
    readonly github: GitHub,
    readonly dataDir: string,
    private readonly options: WorldOptions,
  ) {}

  static async start(options: WorldOptions = {}): Promise<World> {
    const git = await startGitServer({ tokens: {} });
    const github = await startGitHubStandin({ git });
    const world = new World(git, github, mkdtempSync(join(tmpdir(), 'cloudsmith-e2e-')), options);
    github.addUser(world.alice.login, world.alice.token);
    github.addUser(world.bob.login, world.bob.token);
    await world.boot();
    return world;
  }

  get url(): string {
    return this.platform.url;
  }

  config(extra: Record<string, string> = {}) {
    return loadConfig({
      PATH: process.env.PATH,
      PORT: String(this.port),
      CLOUDSMITH_DATA_DIR: this.dataDir,
      GITHUB_API_URL: this.github.url,
      CLOUDSMITH_SECRET_KEY: 'test-secret-key-0123456789abcdefghijklmnop',
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
    const sha = await this.git.addRepo(fullName, join(FIXTURES, fixture), { private: opts.private });
    this.github.grant((opts.owner ?? this.alice).login, fullName, { private: opts.private, admin: true });
    return sha;
  }

  api<T = any>(user: TestUser | undefined, method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    return apiRequest<T>(this.url, user?.token, method, path, body);
  }

  async deploy(user: TestUser, body: Record<string, unknown>): Promise<any> {
    const res = await this.api(user, 'POST', '/api/deployments', body);
    if (res.status !== 202) throw new Error(`deploy refused: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** Polls until the deployment reaches one of `statuses` (default: any terminal one). */
  async waitFor(
    user: TestUser,
    id: string,
    statuses = ['live', 'failed', 'cancelled', 'superseded'],
    timeoutMs = 180_000,
  ): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await this.api(user, 'GET', `/api/deployments/${id}`);
      if (statuses.includes(res.body?.status)) return res.body;
      if (Date.now() > deadline) throw new Error(`deployment ${id} still ${res.body?.status} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
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
    await this.platform?.close();
    await this.github.close();
    await this.git.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  private async boot(extraEnv: Record<string, string> = {}): Promise<void> {
    this.platform = await startPlatform({
      config: this.config(extraEnv),
      roles: this.options.roles,
      builder: this.options.builder,
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
