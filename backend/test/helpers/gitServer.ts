/**
 * A real git smart-HTTP server for tests: `git http-backend` (the CGI program GitHub-like hosts build on)
 * behind a node HTTP server on 127.0.0.1, with GitHub's token scheme: HTTP Basic, username
 * `x-access-token`, password = the token. Repositories are bare repos in a temp dir, filled from fixture
 * directories with fixed author/committer identities so their shas are reproducible.
 */
import { execFile, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface GitRepoMeta {
  id: number;
  fullName: string;
  owner: string;
  name: string;
  private: boolean;
  defaultBranch: string;
  /** The bare repository (for `git rev-parse` by the GitHub stand-in). */
  gitDir: string;
  createdAt: string;
  pushedAt: string;
}

export interface GitRequestRecord {
  method: string;
  url: string;
  authorized: boolean;
  /** Whether a known token appeared anywhere in the request URL (it never should). */
  tokenInUrl: boolean;
}

export interface GitServerHandle {
  url: string;
  addRepo(fullName: string, fromDir: string, opts?: { branch?: string; private?: boolean }): Promise<string>;
  commit(
    fullName: string,
    files: Record<string, string>,
    opts?: { branch?: string; message?: string },
  ): Promise<string>;
  createBranch(fullName: string, branch: string, fromRef: string): Promise<string>;
  cloneUrl(fullName: string): string;
  requests: GitRequestRecord[];
  /** Lets `token` read `pattern`: "owner/name", "owner/*" or "*". */
  allow(token: string, pattern: string): void;
  /**
   * Lets `token` (already allowed to read) `git push` to the repo `fullName` over HTTP, as a developer's clone
   * does. Pushes bypass the server's own work tree, so a test mixes them with commit() only if it pulls first.
   */
  allowPush(token: string, fullName: string): void;
  repo(fullName: string): GitRepoMeta | undefined;
  repos(): GitRepoMeta[];
  setPrivate(fullName: string, isPrivate: boolean): void;
  /** Runs git with argv in the repo's bare directory (read-only queries by the stand-in). */
  gitIn(fullName: string, args: string[]): Promise<string>;
  close(): Promise<void>;
}

/** Fixed identities and dates: the same fixture committed twice gives the same sha. */
const COMMIT_ENV = {
  GIT_AUTHOR_NAME: 'CloudSmith Fixtures',
  GIT_AUTHOR_EMAIL: 'fixtures@cloudsmith.test',
  GIT_AUTHOR_DATE: '2025-01-01T00:00:00Z',
  GIT_COMMITTER_NAME: 'CloudSmith Fixtures',
  GIT_COMMITTER_EMAIL: 'fixtures@cloudsmith.test',
  GIT_COMMITTER_DATE: '2025-01-01T00:00:00Z',
};

const FULL_NAME = /^([A-Za-z0-9-]{1,39})\/([A-Za-z0-9._-]{1,100})$/;
const BRANCH = /^(?!-)(?!.*\.\.)(?!.*\/\/)[A-Za-z0-9._/-]{1,200}(?<![./])$/;

/** The user's own git config (signing, hooks, templates) must not leak into fixture repos. */
function isolatedEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: path.join(home, '.gitconfig'),
    GIT_TERMINAL_PROMPT: '0',
    LANG: 'C',
    ...extra,
  };
}

function runGit(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`git ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

function parseFullName(fullName: string): { owner: string; name: string } {
  const m = FULL_NAME.exec(fullName);
  if (!m || m[2] === '.' || m[2] === '..') throw new Error(`bad repository name ${JSON.stringify(fullName)}`);
  return { owner: m[1], name: m[2] };
}

function checkBranch(branch: string): string {
  if (!BRANCH.test(branch) || branch.endsWith('.lock')) throw new Error(`bad branch name ${JSON.stringify(branch)}`);
  return branch;
}

function basicToken(header: string | undefined): string | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0 || decoded.slice(0, colon) !== 'x-access-token') return undefined;
  return decoded.slice(colon + 1) || undefined;
}

export async function startGitServer(options: { tokens: Record<string, string[]> }): Promise<GitServerHandle> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cloudsmith-git-'));
  const home = path.join(root, 'home');
  const bareRoot = path.join(root, 'repos');
  const workRoot = path.join(root, 'work');
  await Promise.all([home, bareRoot, workRoot].map((d) => fs.mkdir(d, { recursive: true })));
  await fs.writeFile(path.join(home, '.gitconfig'), '[init]\n\tdefaultBranch = main\n');
  const env = isolatedEnv(home);

  const grants = new Map<string, Set<string>>();
  const allow = (token: string, pattern: string): void => {
    const set = grants.get(token) ?? new Set<string>();
    set.add(pattern);
    grants.set(token, set);
  };
  for (const [token, patterns] of Object.entries(options.tokens)) {
    grants.set(token, new Set());
    for (const p of patterns) allow(token, p);
  }

  /** token → lowercased repos it may push to (reading is granted separately). */
  const pushers = new Map<string, Set<string>>();

  const metas = new Map<string, GitRepoMeta>();
  let nextId = 1000;
  /** One operation per repo at a time: the work tree and its pushes are shared. */
  const locks = new Map<string, Promise<unknown>>();
  const serialize = <T>(fullName: string, fn: () => Promise<T>): Promise<T> => {
    const prev = locks.get(fullName) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    locks.set(
      fullName,
      next.catch(() => undefined),
    );
    return next;
  };

  const bareDir = (fullName: string): string => {
    const { owner, name } = parseFullName(fullName);
    return path.join(bareRoot, owner, `${name}.git`);
  };
  const workDir = (fullName: string): string => {
    const { owner, name } = parseFullName(fullName);
    return path.join(workRoot, owner, name);
  };
  const getMeta = (fullName: string): GitRepoMeta => {
    const meta = metas.get(fullName.toLowerCase());
    if (!meta) throw new Error(`no repository ${fullName} on the git server`);
    return meta;
  };

  const canRead = (token: string, meta: GitRepoMeta): boolean => {
    if (!meta.private) return true;
    const patterns = grants.get(token);
    if (!patterns) return false;
    const lower = meta.fullName.toLowerCase();
    for (const p of patterns) {
      const lp = p.toLowerCase();
      if (lp === '*' || lp === lower || (lp.endsWith('/*') && lower.startsWith(lp.slice(0, -1)))) return true;
    }
    return false;
  };

  const requests: GitRequestRecord[] = [];

  const server = http.createServer((req, res) => {
    const rawUrl = req.url ?? '/';
    const tokenInUrl = [...grants.keys()].some((t) => rawUrl.includes(t) || decodeURIComponentSafe(rawUrl).includes(t));
    const record: GitRequestRecord = { method: req.method ?? 'GET', url: rawUrl, authorized: false, tokenInUrl };
    requests.push(record);
    const fail = (status: number, message: string, headers: Record<string, string> = {}): void => {
      req.resume();
      res.writeHead(status, { 'Content-Type': 'text/plain', ...headers });
      res.end(`${message}\n`);
    };
    const u = new URL(rawUrl, 'http://127.0.0.1');
    const m = /^\/([^/]+)\/([^/]+?)(?:\.git)?(\/.*)$/.exec(u.pathname);
    const token = basicToken(req.headers.authorization);
    if (!token || !grants.has(token)) {
      fail(401, 'Invalid username or token.', { 'WWW-Authenticate': 'Basic realm="git"' });
      return;
    }
    const meta = m ? metas.get(`${m[1]}/${m[2]}`.toLowerCase()) : undefined;
    if (!m || !meta || !canRead(token, meta)) {
      fail(404, 'Repository not found.');
      return;
    }
    const rest = m[3];
    const service = u.searchParams.get('service');
    const push = rest.includes('receive-pack') || service === 'git-receive-pack';
    if (push && !pushers.get(token)?.has(meta.fullName.toLowerCase())) {
      fail(403, 'Pushing is not allowed for this token.');
      return;
    }
    record.authorized = true;
    if (push && req.method === 'POST')
      res.on('finish', () => {
        meta.pushedAt = new Date().toISOString();
      });
    serveCgi(req, res, {
      pathInfo: `/${meta.owner}/${meta.name}.git${rest}`,
      query: u.search.replace(/^\?/, ''),
      push,
    });
  });

  function serveCgi(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    where: { pathInfo: string; query: string; push: boolean },
  ): void {
    const cgiEnv: NodeJS.ProcessEnv = isolatedEnv(home, {
      GIT_PROJECT_ROOT: bareRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: where.pathInfo,
      QUERY_STRING: where.query,
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      REMOTE_USER: 'x-access-token',
      // Exact-sha shallow fetches (what Gitpulse does) need these; pushing only for tokens given allowPush().
      GIT_CONFIG_COUNT: '3',
      GIT_CONFIG_KEY_0: 'uploadpack.allowReachableSHA1InWant',
      GIT_CONFIG_VALUE_0: 'true',
      GIT_CONFIG_KEY_1: 'uploadpack.allowAnySHA1InWant',
      GIT_CONFIG_VALUE_1: 'true',
      GIT_CONFIG_KEY_2: 'http.receivepack',
      GIT_CONFIG_VALUE_2: String(where.push),
    });
    if (req.headers['content-length']) cgiEnv.CONTENT_LENGTH = req.headers['content-length'];
    if (req.headers['content-encoding']) cgiEnv.HTTP_CONTENT_ENCODING = req.headers['content-encoding'];
    const protocol = req.headers['git-protocol'];
    if (typeof protocol === 'string') cgiEnv.GIT_PROTOCOL = protocol;

    const child = spawn('git', ['http-backend'], { env: cgiEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdin.on('error', () => undefined);
    req.pipe(child.stdin);

    let head = Buffer.alloc(0);
    let headersSent = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersSent) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      let end = head.indexOf('\r\n\r\n');
      let sepLen = 4;
      if (end < 0) {
        end = head.indexOf('\n\n');
        sepLen = 2;
      }
      if (end < 0) return;
      const headerLines = head.subarray(0, end).toString('latin1').split(/\r?\n/);
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        if (colon < 0) continue;
        const key = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (key.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 200;
        else headers[key] = value;
      }
      res.writeHead(status, headers);
      headersSent = true;
      const body = head.subarray(end + sepLen);
      if (body.length) res.write(body);
    });
    child.on('close', (code) => {
      if (!headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`git http-backend exited with ${code}: ${stderr}\n`);
        return;
      }
      res.end();
    });
    child.on('error', (err) => {
      if (!headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`git http-backend failed: ${err.message}\n`);
      } else res.destroy(err);
    });
    res.on('close', () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve();
    });
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const headSha = async (dir: string, ref = 'HEAD'): Promise<string> =>
    (await runGit(['rev-parse', '--verify', `${ref}^{commit}`], dir, env)).trim();

  const handle: GitServerHandle = {
    url,
    requests,
    allow,
    allowPush: (token, fullName) => {
      const set = pushers.get(token) ?? new Set<string>();
      set.add(getMeta(fullName).fullName.toLowerCase());
      pushers.set(token, set);
    },
    cloneUrl: (fullName) => {
      const { owner, name } = parseFullName(fullName);
      return `${url}/${owner}/${name}.git`;
    },
    repo: (fullName) => metas.get(fullName.toLowerCase()),
    repos: () => [...metas.values()],
    setPrivate: (fullName, isPrivate) => {
      getMeta(fullName).private = isPrivate;
    },
    gitIn: (fullName, args) => runGit(args, getMeta(fullName).gitDir, env),

    addRepo: (fullName, fromDir, opts = {}) =>
      serialize(fullName, async () => {
        const { owner, name } = parseFullName(fullName);
        if (metas.has(fullName.toLowerCase())) throw new Error(`repository ${fullName} already exists`);
        const branch = checkBranch(opts.branch ?? 'main');
        const bare = bareDir(fullName);
        const work = workDir(fullName);
        await fs.mkdir(path.dirname(bare), { recursive: true });
        await fs.cp(fromDir, work, {
          recursive: true,
          verbatimSymlinks: true,
          filter: (src) => {
            const base = path.basename(src);
            return base !== 'node_modules' && base !== '.git';
          },
        });
        await runGit(['init', '-q', '--bare', '-b', branch, bare], root, env);
        await runGit(['init', '-q', '-b', branch], work, env);
        await runGit(['remote', 'add', 'origin', bare], work, env);
        await runGit(['add', '-A'], work, env);
        await runGit(['commit', '-q', '--allow-empty', '--no-gpg-sign', '-m', 'Initial commit'], work, {
          ...env,
          ...COMMIT_ENV,
        });
        await runGit(['push', '-q', 'origin', `HEAD:refs/heads/${branch}`], work, env);
        const sha = await headSha(work);
        const at = new Date().toISOString();
        metas.set(fullName.toLowerCase(), {
          id: nextId++,
          fullName: `${owner}/${name}`,
          owner,
          name,
          private: opts.private ?? false,
          defaultBranch: branch,
          gitDir: bare,
          createdAt: at,
          pushedAt: at,
        });
        return sha;
      }),

    commit: (fullName, files, opts = {}) =>
      serialize(fullName, async () => {
        const meta = getMeta(fullName);
        const branch = checkBranch(opts.branch ?? meta.defaultBranch);
        const work = workDir(fullName);
        await runGit(['fetch', '-q', 'origin'], work, env);
        const exists = await runGit(
          ['rev-parse', '--verify', '--quiet', `refs/remotes/origin/${branch}`],
          work,
          env,
        ).then(
          () => true,
          () => false,
        );
        // A new branch starts from the default branch, as GitHub's "create branch" does.
        await runGit(['checkout', '-q', '-B', branch, `origin/${exists ? branch : meta.defaultBranch}`], work, env);
        for (const [rel, content] of Object.entries(files)) {
          const target = path.resolve(work, rel);
          if (!target.startsWith(work + path.sep)) throw new Error(`file path escapes the repo: ${rel}`);
          await fs.mkdir(path.dirname(target), { recursive: true });
          await fs.writeFile(target, content);
        }
        await runGit(['add', '-A'], work, env);
        await runGit(['commit', '-q', '--allow-empty', '--no-gpg-sign', '-m', opts.message ?? 'Update'], work, {
          ...env,
          ...COMMIT_ENV,
        });
        await runGit(['push', '-q', 'origin', `HEAD:refs/heads/${branch}`], work, env);
        meta.pushedAt = new Date().toISOString();
        return headSha(work);
      }),

    createBranch: (fullName, branch, fromRef) =>
      serialize(fullName, async () => {
        const meta = getMeta(fullName);
        checkBranch(branch);
        if (fromRef.startsWith('-')) throw new Error(`bad ref ${JSON.stringify(fromRef)}`);
        const sha = await headSha(meta.gitDir, fromRef);
        await runGit(['update-ref', `refs/heads/${branch}`, sha], meta.gitDir, env);
        meta.pushedAt = new Date().toISOString();
        return sha;
      }),

    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
      await fs.rm(root, { recursive: true, force: true });
    },
  };
  return handle;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
