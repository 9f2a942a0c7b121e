/**
 * A stand-in for the few GitHub REST API endpoints CloudSmith and its extension use. It exists because no
 * GitHub is reachable from the test machines; it reproduces GitHub's documented shapes and behaviours for
 * these endpoints (401 "Bad credentials", 404 for repositories the caller cannot see, RFC 5988 `Link`
 * pagination, `per_page` capped at 100, 422 for unknown commits, the `/api/v3` prefix of GitHub
 * Enterprise) and answers from the repositories actually served by the test git server.
 *
 * Endpoints: GET /user, GET /user/repos, GET /repos/{o}/{r}, GET /repos/{o}/{r}/branches,
 * GET /repos/{o}/{r}/branches/{branch}, GET /repos/{o}/{r}/commits/{ref};
 * what the platform writes back (githubWrites.ts): POST/GET /repos/{o}/{r}/hooks (admins only: 404 for anyone
 * else, 422 for a hook with the same URL), PATCH /repos/{o}/{r}/hooks/{id}, POST /repos/{o}/{r}/statuses/{sha} and GET .../commits/{ref}/statuses
 * (push access: 404 otherwise, 422 for an unknown state or commit), POST/GET /repos/{o}/{r}/issues/{n}/comments
 * (404 for an unknown issue, 422 without a body) and PATCH /repos/{o}/{r}/issues/comments/{id} (the author or
 * a pusher; 404 otherwise). Pull requests are opened with `openPullRequest` (the issue a comment goes on).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GitRepoMeta, GitServerHandle } from './gitServer';
import { githubWrites, HttpError, Reply, type Writes } from './githubWrites';

export interface GitHubStandinCall {
  method: string;
  path: string;
  /** sha256 (hex) of the presented token: enough to tell callers apart without holding the secret. */
  token?: string;
}

export interface GitHubStandinHandle {
  url: string;
  addUser(login: string, token: string): { id: number; login: string };
  grant(login: string, fullName: string, opts?: { private?: boolean; admin?: boolean }): void;
  calls: GitHubStandinCall[];
  /** What was written back: hooks, statuses, comments, and the pull requests comments go on. */
  writes: Writes;
  close(): Promise<void>;
}

export interface User {
  id: number;
  login: string;
  token: string;
  /** lower-case full name → admin flag */
  access: Map<string, boolean>;
}

const DOCS = 'https://docs.github.com/rest';

export async function startGitHubStandin(options: { git: GitServerHandle }): Promise<GitHubStandinHandle> {
  const git = options.git;
  const usersByToken = new Map<string, User>();
  const usersByLogin = new Map<string, User>();
  const calls: GitHubStandinCall[] = [];
  const writes = githubWrites({
    git,
    userJson: (u) => userJson(u),
    baseUrl: () => baseUrl,
    canPush: (u, meta) => hasAccess(u, meta),
    isAdmin: (u, meta) =>
      meta.owner.toLowerCase() === u.login.toLowerCase() || u.access.get(meta.fullName.toLowerCase()) === true,
    resolve: (meta, ref) => resolve(meta, ref),
  });
  let nextUserId = 5000;
  let baseUrl = '';

  const userJson = (u: User): Record<string, unknown> => ({
    login: u.login,
    id: u.id,
    node_id: `U_${u.id}`,
    type: 'User',
    site_admin: false,
    name: u.login,
    avatar_url: `${baseUrl}/avatars/${u.login}`,
    html_url: `${git.url}/${u.login}`,
    url: `${baseUrl}/users/${u.login}`,
  });

  /** The repo's owner, explicit grants: what /user/repos lists (GitHub does not list others' public repos there). */
  const hasAccess = (u: User, meta: GitRepoMeta): boolean =>
    meta.owner.toLowerCase() === u.login.toLowerCase() || u.access.has(meta.fullName.toLowerCase());
  const canSee = (u: User, meta: GitRepoMeta): boolean => !meta.private || hasAccess(u, meta);

  const repoJson = (u: User, meta: GitRepoMeta): Record<string, unknown> => {
    const admin =
      meta.owner.toLowerCase() === u.login.toLowerCase() || u.access.get(meta.fullName.toLowerCase()) === true;
    const push = admin || hasAccess(u, meta);
    const ownerUser = usersByLogin.get(meta.owner.toLowerCase());
    return {
      id: meta.id,
      node_id: `R_${meta.id}`,
      name: meta.name,
      full_name: meta.fullName,
      private: meta.private,
      visibility: meta.private ? 'private' : 'public',
      owner: { login: meta.owner, id: ownerUser?.id ?? 0, type: 'User' },
      html_url: `${git.url}/${meta.fullName}`,
      description: null,
      fork: false,
      url: `${baseUrl}/repos/${meta.fullName}`,
      clone_url: git.cloneUrl(meta.fullName),
      default_branch: meta.defaultBranch,
      created_at: meta.createdAt,
      updated_at: meta.pushedAt,
      pushed_at: meta.pushedAt,
      archived: false,
      disabled: false,
      permissions: { admin, maintain: admin, push, triage: push, pull: true },
    };
  };

  const findRepo = (u: User, owner: string, name: string): GitRepoMeta => {
    const meta = git.repo(`${owner}/${name}`);
    if (!meta || !canSee(u, meta)) throw new HttpError(404, 'Not Found');
    return meta;
  };

  /** Pages `items` the way GitHub does, setting the Link header with absolute URLs. */
  const paginate = <T>(items: T[], url: URL, prefix: string, res: http.ServerResponse): T[] => {
    const perPage = Math.min(100, Math.max(1, Number.parseInt(url.searchParams.get('per_page') ?? '30', 10) || 30));
    const page = Math.max(1, Number.parseInt(url.searchParams.get('page') ?? '1', 10) || 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const link = (p: number): string => {
      const next = new URL(`${baseUrl}${prefix}${url.pathname}`);
      for (const [k, v] of url.searchParams) if (k !== 'page') next.searchParams.set(k, v);
      next.searchParams.set('page', String(p));
      return `<${next.toString()}>`;
    };
    const rels: string[] = [];
    if (page > 1) rels.push(`${link(page - 1)}; rel="prev"`);
    if (page < last) rels.push(`${link(page + 1)}; rel="next"`, `${link(last)}; rel="last"`);
    if (page > 1) rels.push(`${link(1)}; rel="first"`);
    if (rels.length) res.setHeader('Link', rels.join(', '));
    return items.slice((page - 1) * perPage, page * perPage);
  };

  const commitJson = async (meta: GitRepoMeta, sha: string): Promise<Record<string, unknown>> => {
    const out = await git.gitIn(meta.fullName, [
      'show',
      '-s',
      '--format=%H%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B',
      sha,
    ]);
    const [full, parents, an, ae, ad, cn, ce, cd, ...msg] = out.split('\0');
    return {
      sha: full,
      node_id: `C_${full}`,
      url: `${baseUrl}/repos/${meta.fullName}/commits/${full}`,
      html_url: `${git.url}/${meta.fullName}/commit/${full}`,
      commit: {
        message: msg.join('\0').trim(),
        author: { name: an, email: ae, date: ad },
        committer: { name: cn, email: ce, date: cd },
        tree: { sha: '' },
      },
      parents: parents
        .split(' ')
        .filter(Boolean)
        .map((p) => ({ sha: p, url: `${baseUrl}/repos/${meta.fullName}/commits/${p}` })),
    };
  };

  /** rev-parse an arbitrary ref safely: never lets a ref read as an option, and only commits count. */
  const resolve = async (meta: GitRepoMeta, ref: string): Promise<string | undefined> => {
    // eslint-disable-next-line no-control-regex -- rejecting control characters is the point
    if (!ref || ref.startsWith('-') || /[\x00-\x20\x7f~^:?*[\\]/.test(ref) || ref.includes('..')) return undefined;
    try {
      return (
        (
          await git.gitIn(meta.fullName, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`])
        ).trim() || undefined
      );
    } catch {
      return undefined;
    }
  };

  const branches = async (meta: GitRepoMeta): Promise<Array<{ name: string; sha: string }>> => {
    const out = await git.gitIn(meta.fullName, [
      'for-each-ref',
      '--format=%(refname:lstrip=2) %(objectname)',
      'refs/heads',
    ]);
    return out
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [name, sha] = line.split(' ');
        return { name, sha };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  };

  async function route(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<unknown> {
    let pathname = url.pathname.replace(/\/+$/, '') || '/';
    let prefix = '';
    if (pathname === '/api/v3' || pathname.startsWith('/api/v3/')) {
      prefix = '/api/v3';
      pathname = pathname.slice(prefix.length) || '/';
    }
    url.pathname = pathname;
    const auth = /^(?:token|bearer)\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const token = auth?.[1];
    calls.push({
      method: req.method ?? 'GET',
      path: pathname + url.search,
      token: token ? createHash('sha256').update(token).digest('hex') : undefined,
    });
    const method = req.method ?? 'GET';
    if (!['GET', 'POST', 'PATCH'].includes(method)) throw new HttpError(404, 'Not Found');
    if (!token) throw new HttpError(401, 'Requires authentication');
    const user = usersByToken.get(token);
    if (!user) throw new HttpError(401, 'Bad credentials');

    if (pathname === '/user') return userJson(user);
    if (pathname === '/user/repos') {
      const visible = git
        .repos()
        .filter((m) => hasAccess(user, m))
        .sort((a, b) => a.fullName.toLowerCase().localeCompare(b.fullName.toLowerCase()));
      return paginate(visible, url, prefix, res).map((m) => repoJson(user, m));
    }
    let segs: string[];
    try {
      segs = pathname.split('/').slice(1).map(decodeURIComponent);
    } catch {
      throw new HttpError(404, 'Not Found');
    }
    if (segs[0] !== 'repos' || segs.length < 3) throw new HttpError(404, 'Not Found');
    const meta = findRepo(user, segs[1], segs[2]);
    const rest = segs.slice(3);
    const written = await writes.route(method, user, meta, rest, req);
    if (written !== undefined) return written;
    if (method !== 'GET') throw new HttpError(404, 'Not Found');
    if (rest.length === 0) return repoJson(user, meta);
    if (rest[0] === 'branches' && rest.length === 1) {
      return paginate(await branches(meta), url, prefix, res).map((b) => ({
        name: b.name,
        commit: { sha: b.sha, url: `${baseUrl}/repos/${meta.fullName}/commits/${b.sha}` },
        protected: false,
      }));
    }
    if (rest[0] === 'branches') {
      const name = rest.slice(1).join('/');
      const b = (await branches(meta)).find((x) => x.name === name);
      if (!b) throw new HttpError(404, 'Branch not found');
      return {
        name: b.name,
        commit: await commitJson(meta, b.sha),
        protected: false,
        _links: {
          self: `${baseUrl}/repos/${meta.fullName}/branches/${b.name}`,
          html: `${git.url}/${meta.fullName}/tree/${b.name}`,
        },
      };
    }
    if (rest[0] === 'commits' && rest.length >= 2) {
      const ref = rest.slice(1).join('/');
      const sha = await resolve(meta, ref);
      if (!sha) throw new HttpError(422, `No commit found for SHA: ${ref}`);
      return commitJson(meta, sha);
    }
    throw new HttpError(404, 'Not Found');
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    route(req, res, url).then(
      (body) => {
        req.resume();
        const status = body instanceof Reply ? body.status : 200;
        res.writeHead(status, {
          'Content-Type': 'application/json; charset=utf-8',
          'X-GitHub-Media-Type': 'github.v3',
        });
        res.end(JSON.stringify(body instanceof Reply ? body.body : body));
      },
      (err: unknown) => {
        req.resume();
        const status = err instanceof HttpError ? err.status : 500;
        const message = err instanceof Error ? err.message : String(err);
        res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ message, documentation_url: DOCS, status: String(status) }));
      },
    );
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolveListen();
    });
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    calls,
    writes,
    addUser(login, token) {
      if (usersByLogin.has(login.toLowerCase())) throw new Error(`user ${login} already exists`);
      const user: User = { id: nextUserId++, login, token, access: new Map() };
      usersByToken.set(token, user);
      usersByLogin.set(login.toLowerCase(), user);
      // A user reads their own repos over git too, as on GitHub.
      git.allow(token, `${login}/*`);
      return { id: user.id, login };
    },
    grant(login, fullName, opts = {}) {
      const user = usersByLogin.get(login.toLowerCase());
      if (!user) throw new Error(`no user ${login}`);
      user.access.set(fullName.toLowerCase(), opts.admin ?? false);
      git.allow(user.token, fullName);
      if (opts.private !== undefined && git.repo(fullName)) git.setPrivate(fullName, opts.private);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) =>
        server.close(() => {
          r();
        }),
      );
    },
  };
}
