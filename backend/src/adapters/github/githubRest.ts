import { createHash } from 'node:crypto';
import { NotFoundError, UnauthorizedError, UserFacingError } from '../../domain/errors';
import type { FetchCommitOptions, GitHubUser, RepoInfo, SourceHost } from '../../ports/source';
import { isCommitSha, isValidRef, parseRepoFullName } from '../../domain/repoNames';
import { callGitHub, type GitHubResponse } from './githubCall';
import { fetchCommit } from './gitFetch';

export interface GitHubRestOptions {
  /** https://api.github.com, or https://<host>/api/v3 for GitHub Enterprise. */
  apiUrl: string;
  /** How long a verified token's user is remembered (keyed by the token's hash). */
  cacheMs: number;
  requestTimeoutMs?: number;
}

interface CachedUser {
  expires: number;
  user?: GitHubUser;
  /** A token GitHub refused: remembered too, so a bad token cannot make us hammer GitHub. */
  refused?: boolean;
}

/** Enough for a busy instance; beyond it, expired entries go first and then the oldest. */
const MAX_CACHE_ENTRIES = 10_000;

/** GitHub (or GitHub Enterprise) over its REST API, with the token as a Bearer header only. */
export class GitHubRest implements SourceHost {
  private readonly apiUrl: string;
  private readonly cache = new Map<string, CachedUser>();
  /** Concurrent requests with one token share a single GET /user. */
  private readonly pending = new Map<string, Promise<GitHubUser>>();

  constructor(private readonly options: GitHubRestOptions) {
    this.apiUrl = options.apiUrl.replace(/\/+$/, '');
  }

  async verifyToken(token: string): Promise<GitHubUser> {
    if (!token) throw new UnauthorizedError();
    const key = createHash('sha256').update(token).digest('hex');
    const hit = this.cache.get(key);
    if (hit && hit.expires > Date.now()) {
      if (hit.user) return hit.user;
      throw refusedToken();
    }
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight;
    const p = this.fetchUser(token, key).finally(() => this.pending.delete(key));
    this.pending.set(key, p);
    return p;
  }

  fetchCommit(token: string, opts: FetchCommitOptions): Promise<void> {
    return fetchCommit(token, opts);
  }

  async getRepo(token: string, repo: string): Promise<RepoInfo> {
    const { owner, name } = checkRepo(repo);
    const res = await this.get(token, `/repos/${owner}/${name}`);
    if (res.status === 404 || res.status === 403) throw new NotFoundError(`repository ${repo}`);
    this.expectOk(res, `repository ${repo}`);
    const body = res.body as { full_name?: unknown; private?: unknown; default_branch?: unknown; clone_url?: unknown };
    if (
      typeof body.full_name !== 'string' ||
      typeof body.clone_url !== 'string' ||
      typeof body.default_branch !== 'string'
    ) {
      throw new UserFacingError(`GitHub returned an unexpected answer for repository ${repo}`, 502, 'bad_gateway');
    }
    return {
      fullName: body.full_name,
      private: body.private === true,
      defaultBranch: body.default_branch,
      cloneUrl: body.clone_url,
    };
  }

  async resolveRef(token: string, repo: string, ref: string): Promise<string> {
    const { owner, name } = checkRepo(repo);
    if (!isValidRef(ref)) throw new UserFacingError(`invalid ref ${JSON.stringify(ref)}`, 400);
    // A full sha is still checked: the commit must exist in this repository.
    const res = await this.get(
      token,
      `/repos/${owner}/${name}/commits/${encodeURIComponent(isCommitSha(ref) ? ref.toLowerCase() : ref)}`,
    );
    if (res.status === 404 || res.status === 422 || res.status === 409) {
      throw new UserFacingError(`unknown ref ${JSON.stringify(ref)} in ${repo}`, 400);
    }
    this.expectOk(res, `ref ${ref} in ${repo}`);
    const sha = (res.body as { sha?: unknown }).sha;
    if (typeof sha !== 'string' || !isCommitSha(sha)) {
      throw new UserFacingError(
        `GitHub returned an unexpected answer for ref ${JSON.stringify(ref)} in ${repo}`,
        502,
        'bad_gateway',
      );
    }
    return sha.toLowerCase();
  }

  private async fetchUser(token: string, key: string): Promise<GitHubUser> {
    const res = await this.get(token, '/user');
    if (res.status === 401) {
      this.remember(key, { expires: Date.now() + this.options.cacheMs, refused: true });
      throw refusedToken();
    }
    this.expectOk(res, 'the token’s user');
    const body = res.body as { id?: unknown; login?: unknown };
    if ((typeof body.id !== 'number' && typeof body.id !== 'string') || typeof body.login !== 'string') {
      throw new UserFacingError('GitHub returned an unexpected answer for the token’s user', 502, 'bad_gateway');
    }
    const user: GitHubUser = { id: String(body.id), login: body.login };
    this.remember(key, { expires: Date.now() + this.options.cacheMs, user });
    return user;
  }

  private remember(key: string, entry: CachedUser): void {
    if (this.options.cacheMs <= 0) return;
    if (this.cache.size >= MAX_CACHE_ENTRIES) {
      const now = Date.now();
      for (const [k, v] of this.cache) if (v.expires <= now) this.cache.delete(k);
      // Maps iterate in insertion order: the first key is the oldest.
      if (this.cache.size >= MAX_CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
    }
    this.cache.set(key, entry);
  }

  /** Errors every endpoint shares: refused token, rate limit, GitHub itself failing. */
  private expectOk(res: GitHubResponse, what: string): void {
    if (res.status === 401) throw refusedToken();
    if ((res.status === 403 || res.status === 429) && res.headers.get('x-ratelimit-remaining') === '0') {
      throw new UserFacingError('GitHub API rate limit exceeded; try again later', 503, 'rate_limited');
    }
    if (res.status < 200 || res.status >= 300) {
      const message = (res.body as { message?: unknown } | null)?.message;
      const detail = typeof message === 'string' ? `: ${message}` : '';
      throw new UserFacingError(`GitHub answered ${res.status} for ${what}${detail}`, 502, 'bad_gateway');
    }
  }

  private get(token: string, path: string): Promise<GitHubResponse> {
    return callGitHub(this.apiUrl, token, 'GET', path, { timeoutMs: this.options.requestTimeoutMs });
  }
}

function refusedToken(): UnauthorizedError {
  return new UnauthorizedError('GitHub rejected the token (401 Bad credentials)');
}

function checkRepo(repo: string): { owner: string; name: string } {
  const parsed = parseRepoFullName(repo);
  if (!parsed) throw new UserFacingError(`invalid repository ${JSON.stringify(repo)}: expected owner/name`, 400);
  return parsed;
}
