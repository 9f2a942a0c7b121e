import { UnauthorizedError, UserFacingError } from '../../domain/errors';
import { parseRepoFullName } from '../../domain/repoNames';
import type { CommitStatus, NewRepoHook, RepoWrites } from '../../ports/repoWrites';
import { callGitHub, gitHubMessage, type GitHubResponse } from './githubCall';

/** GitHub's documented limit on a commit status description. */
const MAX_DESCRIPTION = 140;

/** Hooks, commit statuses and pull request comments over GitHub's REST API. */
export class GitHubRepoWrites implements RepoWrites {
  private readonly apiUrl: string;

  constructor(options: { apiUrl: string }) {
    this.apiUrl = options.apiUrl.replace(/\/+$/, '');
  }

  async createHook(
    token: string,
    repo: string,
    hook: NewRepoHook,
  ): Promise<{ ok: true; id: number } | { ok: false; reason: string }> {
    const res = await callGitHub(this.apiUrl, token, 'POST', `${repoPath(repo)}/hooks`, {
      body: {
        name: 'web',
        active: true,
        events: hook.events,
        config: hookConfig(hook),
      },
    });
    if (res.status === 404)
      return { ok: false, reason: `GitHub answered 404: only an admin of ${repo} may add hooks to it` };
    if (res.status === 422) {
      // Registered before (the secret has been rotated since, say): the hook with this URL takes the new settings.
      const existing = await this.hookWithUrl(token, repo, hook.url);
      if (existing !== undefined) {
        const patched = await callGitHub(this.apiUrl, token, 'PATCH', `${repoPath(repo)}/hooks/${existing}`, {
          body: { active: true, events: hook.events, config: hookConfig(hook) },
        });
        expectOk(patched, `hook ${existing} on ${repo}`);
        return { ok: true, id: existing };
      }
    }
    if (res.status === 403 || res.status === 422)
      return { ok: false, reason: `GitHub answered ${res.status}: ${gitHubMessage(res)}` };
    expectOk(res, `a hook on ${repo}`);
    return { ok: true, id: numberField(res, 'id') };
  }

  private async hookWithUrl(token: string, repo: string, url: string): Promise<number | undefined> {
    const res = await callGitHub(this.apiUrl, token, 'GET', `${repoPath(repo)}/hooks?per_page=100`);
    if (res.status !== 200 || !Array.isArray(res.body)) return undefined;
    const found = (res.body as Array<{ id?: unknown; config?: { url?: unknown } }>).find((h) => h.config?.url === url);
    return typeof found?.id === 'number' ? found.id : undefined;
  }

  async setCommitStatus(token: string, repo: string, sha: string, status: CommitStatus): Promise<void> {
    const res = await callGitHub(this.apiUrl, token, 'POST', `${repoPath(repo)}/statuses/${encodeURIComponent(sha)}`, {
      body: {
        state: status.state,
        description: status.description.slice(0, MAX_DESCRIPTION),
        target_url: status.targetUrl,
        context: status.context,
      },
    });
    expectOk(res, `the status of ${sha.slice(0, 7)} in ${repo}`);
  }

  async createComment(token: string, repo: string, issue: number, body: string): Promise<number> {
    const res = await callGitHub(this.apiUrl, token, 'POST', `${repoPath(repo)}/issues/${issue}/comments`, {
      body: { body },
    });
    expectOk(res, `a comment on #${issue} in ${repo}`);
    return numberField(res, 'id');
  }

  async updateComment(token: string, repo: string, commentId: number, body: string): Promise<void> {
    const res = await callGitHub(this.apiUrl, token, 'PATCH', `${repoPath(repo)}/issues/comments/${commentId}`, {
      body: { body },
    });
    expectOk(res, `comment ${commentId} in ${repo}`);
  }
}

function hookConfig(hook: NewRepoHook) {
  return { url: hook.url, content_type: 'json', secret: hook.secret, insecure_ssl: '0' };
}

function repoPath(repo: string): string {
  const parsed = parseRepoFullName(repo);
  if (!parsed) throw new UserFacingError(`invalid repository ${JSON.stringify(repo)}: expected owner/name`, 400);
  return `/repos/${parsed.owner}/${parsed.name}`;
}

function expectOk(res: GitHubResponse, what: string): void {
  if (res.status === 401) throw new UnauthorizedError('GitHub rejected the token (401 Bad credentials)');
  if (res.status < 200 || res.status >= 300)
    throw new UserFacingError(`GitHub answered ${res.status} for ${what}: ${gitHubMessage(res)}`, 502, 'bad_gateway');
}

function numberField(res: GitHubResponse, field: string): number {
  const value = (res.body as Record<string, unknown> | null)?.[field];
  if (typeof value !== 'number') throw new UserFacingError('GitHub returned an unexpected answer', 502, 'bad_gateway');
  return value;
}
