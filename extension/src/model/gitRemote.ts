/** The GitHub web host that goes with an API URL: api.github.com → github.com; https://ghe.corp/api/v3 → ghe.corp. */
export function webHostFor(githubApiUrl: string): string {
  const host = new URL(githubApiUrl).host.toLowerCase();
  return host === 'api.github.com' ? 'github.com' : host.replace(/^api\./, '');
}

/**
 * "owner/name" from a git remote URL on the given GitHub host, in https, ssh or scp-like form; undefined when
 * the remote is elsewhere.
 */
export function repoFromRemote(remote: string, webHost: string): string | undefined {
  const host = webHost.toLowerCase();
  let path: string;
  const scp = /^[\w.-]+@([^:/]+):(.+)$/.exec(remote);
  if (scp) {
    if (scp[1].toLowerCase() !== host.split(':')[0]) return undefined;
    path = scp[2];
  } else {
    try {
      const url = new URL(remote);
      if (url.host.toLowerCase() !== host && url.hostname.toLowerCase() !== host) return undefined;
      path = url.pathname;
    } catch {
      return undefined;
    }
  }
  const match = /^\/?([A-Za-z0-9-]+)\/([A-Za-z0-9._-]+?)(?:\.git)?\/?$/.exec(path);
  return match ? `${match[1]}/${match[2]}` : undefined;
}

/** The `origin` remote (else the first remote) URL from a .git/config file's text. */
export function originUrl(gitConfig: string): string | undefined {
  let current: string | undefined;
  const urls = new Map<string, string>();
  for (const raw of gitConfig.split(/\r?\n/)) {
    const line = raw.trim();
    const section = /^\[remote\s+"([^"]+)"\]$/.exec(line);
    if (section) {
      current = section[1];
      continue;
    }
    if (line.startsWith('[')) current = undefined;
    const url = /^url\s*=\s*(.+)$/.exec(line);
    if (current && url && !urls.has(current)) urls.set(current, url[1].trim());
  }
  return urls.get('origin') ?? urls.values().next().value;
}
