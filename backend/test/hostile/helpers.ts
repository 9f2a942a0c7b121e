import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox } from '../../src/sandbox/sandbox';
import { fetchApp } from '../helpers/appFetch';
import { descendants, pidsWhere } from '../helpers/processes';
import { missingPeer } from '../peers';

/** Fails (or, when named in CLOUDSMITH_TEST_SKIP off CI, skips) a suite on a machine where bubblewrap cannot sandbox. */
export async function requireSandbox(ctx: Mocha.Context): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sandbox-probe-'));
  try {
    const sandbox = await Sandbox.create({ dataDir: dir });
    if (!sandbox.isolated) {
      missingPeer(ctx, 'sandbox', `${sandbox.unavailableReason ?? ''}: run \`bash scripts/sandbox.sh up\``);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Every process of this platform (git, sandboxes, apps) whose environment or argv contains `secret`. Only this
 * test's processes: other suites on the same machine use the same test tokens.
 */
export function processesHolding(secret: string): string[] {
  const hits: string[] = [];
  // This process and every process it started (the embedded platform runs in the test process).
  for (const pid of descendants(process.pid)) {
    for (const file of ['environ', 'cmdline']) {
      try {
        if (readFileSync(`/proc/${pid}/${file}`, 'latin1').includes(secret)) hits.push(`${pid}/${file}`);
      } catch {
        // Gone.
      }
    }
  }
  return hits;
}

/**
 * While `during` runs (another user's fetch and deploy), scans every process this test started for `token` (raw,
 * and the Basic credential git would send) and asks the hostile tenant's app at `scannerUrl` what it saw (its
 * /scan route); then asserts that nothing, on the host or in that app, ever held the token.
 */
export async function assertTokenNeverSeen(
  token: string,
  scannerUrl: string,
  during: () => Promise<void>,
): Promise<void> {
  const hostHits = new Set<string>();
  const appTokens = new Set<string>();
  const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
  const state = { scanning: true };
  const scans = (async () => {
    while (state.scanning) {
      for (const hit of [...processesHolding(token), ...processesHolding(basic)]) hostHits.add(hit);
      const seen = JSON.parse((await fetchApp(scannerUrl, '/scan')).body) as { tokens: string[] };
      for (const t of seen.tokens) appTokens.add(t);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  try {
    await during();
  } finally {
    state.scanning = false;
    await scans;
  }
  assert.deepEqual([...hostHits], [], "the token is in no process's environ or cmdline on the host");
  assert.deepEqual([...appTokens], [], "another tenant's app captured no token");
}

/** How many processes on the host have `marker` in their command line. */
export const running = (marker: string) => pidsWhere((p) => p.cmdline.includes(marker)).length;

/** What the hostile fixture's probe reports: its uid, the tokens it found in /proc, and each attempt's outcome. */
export interface AttackReport {
  uid: number;
  proc: { pids: number; tokens: string[] };
  [attempt: string]: unknown;
}

export async function eventually(check: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Polls GET /healthz every 250 ms from when it is started and records the slowest answer: the platform must
 * keep answering while tenants attack it.
 */
export class HealthWatch {
  slowestMs = 0;
  failures: string[] = [];
  private timer?: NodeJS.Timeout;
  private inFlight = false;

  constructor(private readonly url: string) {}

  start(): this {
    this.timer = setInterval(() => {
      if (this.inFlight) return;
      this.inFlight = true;
      const started = Date.now();
      this.probe()
        .then(
          (status) => {
            if (status !== 200) this.failures.push(`status ${status}`);
          },
          (err: unknown) => this.failures.push(String(err)),
        )
        .finally(() => {
          this.slowestMs = Math.max(this.slowestMs, Date.now() - started);
          this.inFlight = false;
        });
    }, 250);
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private probe(): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request(`${this.url}/healthz`, { timeout: 5000 }, (res) => {
        res.resume();
        res.on('end', () => {
          resolve(res.statusCode ?? 0);
        });
      });
      req.on('timeout', () => req.destroy(new Error('healthz timed out after 5 s')));
      req.on('error', reject);
      req.end();
    });
  }
}
