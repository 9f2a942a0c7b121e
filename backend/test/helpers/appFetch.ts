import { request } from 'node:http';

export interface AppResponse {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * GETs an app URL such as http://web-alice.localhost:8080/ by connecting to loopback with the Host header,
 * as browsers and curl do for *.localhost; Node's resolver does not special-case that domain.
 */
export function fetchApp(url: string | null, path = '/', timeoutMs = 10_000): Promise<AppResponse> {
  // A deployment's URL is null until it is live: a test fetching it then should say so, not "Invalid URL".
  if (url === null) return Promise.reject(new Error('fetchApp: the deployment has no URL (not live)'));
  const target = new URL(path, url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: target.port || 80,
        path: target.pathname + target.search,
        headers: { host: target.host },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out fetching ${target.href}`)));
    req.on('error', reject);
    req.end();
  });
}
