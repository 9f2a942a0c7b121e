import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Role } from '../../src/compose/platform';
import { freePort } from '../../src/health/health';
import { apiRequest, type ApiResponse } from '../helpers/apiRequest';
import { cmdline, descendants } from '../helpers/processes';
import { ALICE, SourceHost, waitForStatus } from '../helpers/sourceHost';

export const BACKEND = join(__dirname, '..', '..');
export const KAFKA_FIXTURES = join(__dirname, 'fixtures');
export const TEST_FIXTURES = join(__dirname, '..', 'fixtures');

export interface Service {
  name: string;
  role: Role;
  port: number;
  url: string;
  child: ChildProcess;
  /** The last lines the process printed, for a failing test's report. */
  output: string[];
  exited: Promise<number | null>;
}

export interface StoredLine {
  seq: number;
  ts: string;
  stage: string;
  text: string;
}

/**
 * The distributed platform as separate processes on one machine: every service is
 * `node --import tsx src/main.ts --service <role>`, all on one Kafka topic prefix, sharing one SQLite file
 * (WAL) and one artifact directory through a common data dir, as services on one host would.
 */
export class Cluster {
  readonly services = new Map<string, Service>();
  readonly alice = ALICE;
  readonly topicPrefix = `cs-fault-${randomUUID().slice(0, 8)}.`;

  private constructor(
    readonly brokers: string[],
    readonly host: SourceHost,
    readonly dataDir: string,
  ) {}

  static async start(brokers: string[]): Promise<Cluster> {
    return new Cluster(brokers, await SourceHost.start([ALICE]), mkdtempSync(join(tmpdir(), 'cloudsmith-kafka-')));
  }

  async addRepo(fullName: string, fixtureDir: string): Promise<void> {
    await this.host.addRepo(fullName, fixtureDir);
  }

  env(port: number, role: Role): Record<string, string> {
    return {
      ...this.host.platformEnv(this.dataDir),
      HOME: process.env.HOME ?? tmpdir(),
      CLOUDSMITH_MODE: 'distributed',
      CLOUDSMITH_BUS: 'kafka',
      KAFKA_BROKERS: this.brokers.join(','),
      KAFKA_TOPIC_PREFIX: this.topicPrefix,
      KAFKA_PARTITIONS: '4',
      // With `scripts/kafka.sh up --brokers 3` every partition is replicated to all three.
      KAFKA_REPLICATION_FACTOR: String(Math.min(3, this.brokers.length)),
      KAFKA_CLIENT_ID: `cloudsmith-${role}`,
      // Kafka's floor is 6 s; a short session makes a killed builder's partitions move on quickly.
      KAFKA_SESSION_TIMEOUT_MS: '8000',
      [role === 'api' ? 'PORT' : 'CLOUDSMITH_PROXY_PORT']: String(port),
      CLOUDSMITH_HEALTH_TIMEOUT_MS: '60000',
      CLOUDSMITH_TOKEN_CACHE_MS: '60000',
      CLOUDSMITH_QUIET: process.env.KAFKA_TEST_VERBOSE ? '0' : '1',
    };
  }

  /** Starts one service process and waits until it answers /healthz (it listens after subscribing). */
  async spawn(name: string, role: Role): Promise<Service> {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--service', role], {
      cwd: BACKEND,
      env: this.env(port, role),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line) output.push(line);
      if (output.length > 200) output.splice(0, output.length - 200);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => {
        resolve(code);
      }),
    );
    const service: Service = { name, role, port, url: `http://127.0.0.1:${port}`, child, output, exited };
    this.services.set(name, service);
    const deadline = Date.now() + 90_000;
    // An object, not a let: the flag flips in a callback, which TypeScript's narrowing does not see.
    const startup = { gone: false };
    void exited.then(() => (startup.gone = true));
    for (;;) {
      if (startup.gone) throw new Error(`${name} (${role}) exited during startup:\n${output.slice(-30).join('\n')}`);
      const ok = await fetch(`${service.url}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return service;
      if (Date.now() > deadline)
        throw new Error(`${name} (${role}) not healthy after 90 s:\n${output.slice(-30).join('\n')}`);
      await sleep(200);
    }
  }

  service(name: string): Service {
    const s = this.services.get(name);
    if (!s) throw new Error(`no service ${name}`);
    return s;
  }

  /** kill -9 of a service and every process below it: what a crashed machine leaves behind. */
  async crash(name: string): Promise<void> {
    const s = this.service(name);
    const root = s.child.pid;
    const pids = root === undefined ? [] : [root, ...descendants(root)];
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await s.exited;
    this.services.delete(name);
  }

  /** The service whose process tree holds a process whose command line contains `needle`. */
  ownerOf(needle: string, among: string[]): string | undefined {
    for (const name of among) {
      const s = this.services.get(name);
      if (!s?.child.pid) continue;
      if (descendants(s.child.pid).some((pid) => cmdline(pid).includes(needle))) return name;
    }
    return undefined;
  }

  api<T = unknown>(via: string, method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    return apiRequest<T>(this.service(via).url, ALICE.token, method, path, body);
  }

  async deploy(via: string, repo: string): Promise<{ id: string; app: string }> {
    const res = await this.api<{ id: string; app: string }>(via, 'POST', '/api/deployments', { repo });
    if (res.status !== 202) throw new Error(`deploy ${repo} refused: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async deployment(via: string, id: string): Promise<{ status: string; url?: string; error?: string; app: string }> {
    const res = await this.api<{ status: string; url?: string; error?: string; app: string }>(
      via,
      'GET',
      `/api/deployments/${id}`,
    );
    if (res.status !== 200) throw new Error(`GET deployment ${id}: ${res.status}`);
    return res.body;
  }

  async waitFor(via: string, id: string, statuses?: readonly string[], timeoutMs = 150_000) {
    return waitForStatus(() => this.deployment(via, id).catch(() => undefined), {
      statuses,
      timeoutMs,
      pollMs: 250,
      describe: (last) => {
        const outputs = [...this.services.values()].map(
          (s) => `--- ${s.name} (${s.role}):\n${s.output.slice(-15).join('\n')}`,
        );
        return `deployment ${id} still ${last?.status} after ${timeoutMs} ms\n${outputs.join('\n')}`;
      },
    });
  }

  async logs(via: string, id: string): Promise<StoredLine[]> {
    const res = await this.api<string | StoredLine>(via, 'GET', `/api/deployments/${id}/logs`);
    if (res.status !== 200) throw new Error(`GET logs ${id}: ${res.status}`);
    // A one-line log parses as a single object; a longer one stays JSON-lines text.
    if (typeof res.body !== 'string') return [res.body];
    return res.body
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as StoredLine);
  }

  async waitForLine(via: string, id: string, pattern: RegExp, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = await this.logs(via, id).catch(() => []);
      if (lines.some((l) => pattern.test(l.text))) return;
      if (Date.now() > deadline) throw new Error(`no log line matching ${pattern} in ${id} after ${timeoutMs} ms`);
      await sleep(150);
    }
  }

  report(): string {
    return [...this.services.values()]
      .map((s) => `--- ${s.name} (${s.role}) ---\n${s.output.slice(-40).join('\n')}`)
      .join('\n');
  }

  async close(): Promise<void> {
    // SIGTERM first: Docksage stops the apps it started; anything still up after that is killed.
    // The process trees are read first: once a service exits, what it leaked is re-parented and unfindable.
    const all = [...this.services.values()];
    const trees = all.flatMap((s) => (s.child.pid === undefined ? [] : [s.child.pid, ...descendants(s.child.pid)]));
    for (const s of all) s.child.kill('SIGTERM');
    await Promise.race([Promise.all(all.map((s) => s.exited)), sleep(15_000)]);
    for (const pid of trees) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.services.clear();
    await this.host.close();
    await deleteTopics(this.brokers, this.topicPrefix).catch(() => undefined);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export async function deleteTopics(brokers: string[], prefix: string): Promise<void> {
  const admin = new Kafka({ brokers, clientId: 'cloudsmith-test-cleanup', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const ours = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (ours.length > 0) await admin.deleteTopics({ topics: ours });
  } finally {
    await admin.disconnect();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
