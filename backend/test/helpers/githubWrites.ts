/**
 * The write side of the GitHub stand-in (see githubStandin.ts, whose header lists the endpoints): repository
 * hooks, commit statuses and issue comments, with GitHub's documented status codes and fields. It is a stand-in
 * because no GitHub is reachable from the test machines; tests read what was written through `Writes`.
 */
import type http from 'node:http';
import type { GitRepoMeta, GitServerHandle } from './gitServer';
import type { User } from './githubStandin';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** An answer with a status other than 200 (201 Created). */
export class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {}
}

export interface StandinHook {
  id: number;
  repo: string;
  events: string[];
  active: boolean;
  config: HookConfig;
}

interface HookConfig {
  url: string;
  content_type: string;
  secret?: string;
  insecure_ssl: string;
}

export interface StandinStatus {
  id: number;
  state: string;
  description: string | null;
  target_url: string | null;
  context: string;
  creator: string;
}

export interface StandinComment {
  id: number;
  repo: string;
  issue: number;
  body: string;
  author: string;
  edits: number;
}

export interface Writes {
  route(method: string, user: User, meta: GitRepoMeta, rest: string[], req: http.IncomingMessage): Promise<unknown>;
  /** Makes #number a pull request of the repo (comments need an existing issue). */
  openPullRequest(fullName: string, number: number): void;
  hooks(fullName: string): StandinHook[];
  /** Newest first, as GitHub lists them. */
  statuses(fullName: string, sha: string): StandinStatus[];
  comments(fullName: string, issue: number): StandinComment[];
}

interface WriteDeps {
  git: GitServerHandle;
  userJson(u: User): Record<string, unknown>;
  baseUrl(): string;
  canPush(u: User, meta: GitRepoMeta): boolean;
  isAdmin(u: User, meta: GitRepoMeta): boolean;
  resolve(meta: GitRepoMeta, ref: string): Promise<string | undefined>;
}

const STATES = ['error', 'failure', 'pending', 'success'];
/** GitHub's request body limit for these endpoints is far larger; this is enough to catch a runaway client. */
const MAX_BODY = 1024 * 1024;

export function githubWrites(deps: WriteDeps): Writes {
  const hooks: StandinHook[] = [];
  const statuses = new Map<string, StandinStatus[]>();
  const comments: StandinComment[] = [];
  const pulls = new Set<string>();
  let nextId = 9000;
  const key = (meta: GitRepoMeta) => meta.fullName.toLowerCase();
  const now = () => new Date().toISOString();

  const hookJson = (meta: GitRepoMeta, h: StandinHook) => ({
    type: 'Repository',
    id: h.id,
    name: 'web',
    active: h.active,
    events: h.events,
    // GitHub never returns a hook's secret: it shows it masked.
    config: { ...h.config, secret: h.config.secret ? '********' : undefined },
    url: `${deps.baseUrl()}/repos/${meta.fullName}/hooks/${h.id}`,
    test_url: `${deps.baseUrl()}/repos/${meta.fullName}/hooks/${h.id}/test`,
    ping_url: `${deps.baseUrl()}/repos/${meta.fullName}/hooks/${h.id}/pings`,
    deliveries_url: `${deps.baseUrl()}/repos/${meta.fullName}/hooks/${h.id}/deliveries`,
    last_response: { code: null, status: 'unused', message: null },
    created_at: now(),
    updated_at: now(),
  });

  const commentJson = (meta: GitRepoMeta, c: StandinComment, author: User | undefined) => ({
    id: c.id,
    node_id: `IC_${c.id}`,
    url: `${deps.baseUrl()}/repos/${meta.fullName}/issues/comments/${c.id}`,
    html_url: `${deps.git.url}/${meta.fullName}/pull/${c.issue}#issuecomment-${c.id}`,
    issue_url: `${deps.baseUrl()}/repos/${meta.fullName}/issues/${c.issue}`,
    body: c.body,
    user: author ? deps.userJson(author) : null,
    author_association: 'OWNER',
    created_at: now(),
    updated_at: now(),
  });

  async function route(
    method: string,
    user: User,
    meta: GitRepoMeta,
    rest: string[],
    req: http.IncomingMessage,
  ): Promise<unknown> {
    // Hooks belong to admins: anyone else (even a pusher) is told the resource does not exist.
    if (rest[0] === 'hooks' && rest.length === 1) {
      if (!deps.isAdmin(user, meta)) throw new HttpError(404, 'Not Found');
      if (method === 'GET') return hooks.filter((h) => h.repo === key(meta)).map((h) => hookJson(meta, h));
      if (method !== 'POST') throw new HttpError(404, 'Not Found');
      const body = await jsonBody(req);
      const config = hookConfig(body.config);
      if (body.name !== undefined && body.name !== 'web') throw validation('Validation Failed: name');
      if (hooks.some((h) => h.repo === key(meta) && h.config.url === config.url))
        throw validation('Validation Failed: Hook already exists on this repository');
      const events = Array.isArray(body.events) ? body.events.map(String) : ['push'];
      const hook: StandinHook = { id: nextId++, repo: key(meta), events, active: body.active !== false, config };
      hooks.push(hook);
      return new Reply(201, hookJson(meta, hook));
    }
    if (rest[0] === 'hooks' && rest.length === 2 && method === 'PATCH') {
      const hook = hooks.find((h) => h.repo === key(meta) && h.id === Number(rest[1]));
      if (!hook || !deps.isAdmin(user, meta)) throw new HttpError(404, 'Not Found');
      const body = await jsonBody(req);
      if (body.config !== undefined) hook.config = hookConfig(body.config);
      if (Array.isArray(body.events)) hook.events = body.events.map(String);
      if (typeof body.active === 'boolean') hook.active = body.active;
      return hookJson(meta, hook);
    }
    if (rest[0] === 'statuses' && rest.length === 2 && method === 'POST') {
      if (!deps.canPush(user, meta)) throw new HttpError(404, 'Not Found');
      const body = await jsonBody(req);
      if (typeof body.state !== 'string' || !STATES.includes(body.state)) throw validation('Validation Failed: state');
      const sha = await deps.resolve(meta, rest[1]);
      if (!sha || !/^[0-9a-f]{40}$/.test(rest[1])) throw validation(`No commit found for SHA: ${rest[1]}`);
      const status: StandinStatus = {
        id: nextId++,
        state: body.state,
        description: typeof body.description === 'string' ? body.description : null,
        target_url: typeof body.target_url === 'string' ? body.target_url : null,
        context: typeof body.context === 'string' ? body.context : 'default',
        creator: user.login,
      };
      statuses.set(`${key(meta)}@${sha}`, [status, ...(statuses.get(`${key(meta)}@${sha}`) ?? [])]);
      return new Reply(201, {
        ...status,
        url: `${deps.baseUrl()}/repos/${meta.fullName}/statuses/${sha}`,
        node_id: `SC_${status.id}`,
        creator: deps.userJson(user),
        created_at: now(),
        updated_at: now(),
      });
    }
    if (rest[0] === 'commits' && rest.at(-1) === 'statuses' && rest.length >= 3 && method === 'GET') {
      const sha = await deps.resolve(meta, rest.slice(1, -1).join('/'));
      return sha ? (statuses.get(`${key(meta)}@${sha}`) ?? []) : [];
    }
    if (rest[0] === 'issues' && rest[2] === 'comments' && rest.length === 3) {
      const issue = Number(rest[1]);
      if (!pulls.has(`${key(meta)}#${issue}`)) throw new HttpError(404, 'Not Found');
      if (method === 'GET')
        return comments.filter((c) => c.repo === key(meta) && c.issue === issue).map((c) => commentJson(meta, c, user));
      if (method !== 'POST') throw new HttpError(404, 'Not Found');
      const body = await jsonBody(req);
      if (typeof body.body !== 'string' || body.body === '') throw validation('Validation Failed: body');
      const comment: StandinComment = {
        id: nextId++,
        repo: key(meta),
        issue,
        body: body.body,
        author: user.login,
        edits: 0,
      };
      comments.push(comment);
      return new Reply(201, commentJson(meta, comment, user));
    }
    if (rest[0] === 'issues' && rest[1] === 'comments' && rest.length === 3 && method === 'PATCH') {
      const comment = comments.find((c) => c.repo === key(meta) && c.id === Number(rest[2]));
      if (!comment || (comment.author !== user.login && !deps.canPush(user, meta)))
        throw new HttpError(404, 'Not Found');
      const body = await jsonBody(req);
      if (typeof body.body !== 'string' || body.body === '') throw validation('Validation Failed: body');
      comment.body = body.body;
      comment.edits += 1;
      return commentJson(meta, comment, user);
    }
    return undefined;
  }

  return {
    route,
    openPullRequest(fullName, number) {
      pulls.add(`${fullName.toLowerCase()}#${number}`);
    },
    hooks: (fullName) => hooks.filter((h) => h.repo === fullName.toLowerCase()),
    statuses: (fullName, sha) => statuses.get(`${fullName.toLowerCase()}@${sha}`) ?? [],
    comments: (fullName, issue) => comments.filter((c) => c.repo === fullName.toLowerCase() && c.issue === issue),
  };
}

const validation = (message: string) => new HttpError(422, message);

/** A hook's `config` as GitHub keeps it: a URL is required (422 otherwise), content type defaults to form. */
function hookConfig(value: unknown): HookConfig {
  const config = object(value);
  if (typeof config.url !== 'string' || !/^https?:\/\//.test(config.url))
    throw validation('Validation Failed: config.url');
  return {
    url: config.url,
    content_type: typeof config.content_type === 'string' ? config.content_type : 'form',
    secret: typeof config.secret === 'string' ? config.secret : undefined,
    insecure_ssl: typeof config.insecure_ssl === 'string' ? config.insecure_ssl : '0',
  };
}

/** GitHub answers 400 "Problems parsing JSON" to a body that is not a JSON object. */
async function jsonBody(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, 'Payload too large');
    chunks.push(chunk as Buffer);
  }
  try {
    return object(JSON.parse(Buffer.concat(chunks).toString('utf8')));
  } catch {
    throw new HttpError(400, 'Problems parsing JSON');
  }
}

function object(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new HttpError(400, 'Problems parsing JSON');
  return value as Record<string, unknown>;
}
