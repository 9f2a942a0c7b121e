import { UserFacingError } from '../../domain/errors';

export interface GitHubResponse {
  status: number;
  body: unknown;
  headers: Headers;
}

/** One GitHub REST call, the token in the Authorization header only (never in the URL or a log). */
export async function callGitHub(
  apiUrl: string,
  token: string,
  method: string,
  path: string,
  opts: { body?: unknown; timeoutMs?: number } = {},
): Promise<GitHubResponse> {
  const headers: Record<string, string> = {
    Authorization: `Bearer ${token}`,
    Accept: 'application/vnd.github+json',
    'X-GitHub-Api-Version': '2022-11-28',
    'User-Agent': 'CloudSmith',
  };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${apiUrl}${path}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      redirect: 'follow',
      signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
    });
  } catch {
    throw new UserFacingError(`GitHub is unreachable at ${apiUrl}`, 502, 'bad_gateway');
  }
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    // Non-JSON bodies (proxies, HTML error pages) are judged by status alone.
  }
  return { status: res.status, body, headers: res.headers };
}

/** GitHub's own words for a refusal (`message`), when it gave any. */
export function gitHubMessage(res: GitHubResponse): string {
  const message = (res.body as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : `HTTP ${res.status}`;
}
