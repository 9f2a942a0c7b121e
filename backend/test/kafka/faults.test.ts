import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { fetchApp } from '../helpers/appFetch';
import { KAFKA_HOW_TO, missingPeer } from '../peers';
import { Cluster, KAFKA_FIXTURES, sleep, TEST_FIXTURES, type StoredLine } from './cluster';

const brokers = (process.env.CLOUDSMITH_TEST_KAFKA ?? '')
  .split(',')
  .map((b) => b.trim())
  .filter(Boolean);
const REPO_ROOT = join(__dirname, '..', '..', '..');
const run = promisify(execFile);

/** A log is complete and in order when its seqs are exactly 1..N. */
function assertContiguous(lines: StoredLine[], what: string): void {
  const seqs = lines.map((l) => l.seq);
  assert.deepEqual(
    seqs,
    Array.from({ length: seqs.length }, (_, i) => i + 1),
    `${what}: seqs must be 1..${seqs.length} without gaps or repeats`,
  );
}

function count(lines: StoredLine[], pattern: RegExp): number {
  return lines.filter((l) => pattern.test(l.text)).length;
}

/** Every tick of the fixture's build, each seen exactly once per build run, in order. */
function assertTicks(lines: StoredLine[]): void {
  const ticks = lines.map((l) => /^tick (\d+)\/(\d+)$/.exec(l.text.trim())).filter((m): m is RegExpExecArray => !!m);
  assert.ok(ticks.length > 0, 'the build printed its ticks');
  const total = Number(ticks[0][2]);
  const last = ticks.map((m) => Number(m[1])).slice(-total);
  assert.deepEqual(
    last,
    Array.from({ length: total }, (_, i) => i + 1),
    'the completed build’s ticks are all there, in order',
  );
}

/** The broker restart test restarts the broker through scripts/kafka.sh: it must be that script's, and running. */
async function assertScriptBroker(): Promise<void> {
  const script = join(REPO_ROOT, 'scripts/kafka.sh');
  const { stdout } = await run('bash', [script, 'env'], { env: process.env });
  assert.equal(
    stdout.trim(),
    `export CLOUDSMITH_TEST_KAFKA=${brokers.join(',')}`,
    'CLOUDSMITH_TEST_KAFKA must be the broker scripts/kafka.sh runs (this test restarts it)',
  );
  // Rejects (failing the test) when the script reports its broker down.
  await run('bash', [script, 'status'], { env: process.env });
}

describe('distributed platform on a real Kafka broker: faults', function () {
  this.timeout(300_000);
  let cluster: Cluster;

  before(async function () {
    if (brokers.length === 0) missingPeer(this, 'kafka', KAFKA_HOW_TO);
    cluster = await Cluster.start(brokers);
    await cluster.addRepo('alice/ticking', join(KAFKA_FIXTURES, 'ticking'));
    // Started one after the other: on two cores, six TypeScript processes at once would only queue.
    await cluster.spawn('api1', 'api');
    await cluster.spawn('api2', 'api');
    await cluster.spawn('gitpulse', 'gitpulse');
    await cluster.spawn('builder1', 'buildrelay');
    await cluster.spawn('builder2', 'buildrelay');
    await cluster.spawn('docksage', 'docksage');
  });

  afterEach(function () {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
    if (this.currentTest?.state === 'failed' && cluster) console.error(cluster.report());
  });

  after(async function () {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
    await cluster?.close();
  });

  it('a Buildrelay instance killed mid-build: the other one finishes the deployment, released once', async function () {
    const { id, app } = await cluster.deploy('api1', 'alice/ticking');
    await cluster.waitForLine('api1', id, /^tick 3\//);
    const victim = cluster.ownerOf('build.js', ['builder1', 'builder2']);
    assert.ok(victim, 'one of the builders runs the build');
    await cluster.crash(victim);
    try {
      const done = await cluster.waitFor('api1', id);
      assert.equal(done.status, 'live', `ended ${done.status}: ${done.error}`);
      const lines = await cluster.logs('api1', id);
      assertContiguous(lines, 'log');
      assertTicks(lines);
      assert.equal(count(lines, /^Releasing /), 1, 'released exactly once');
      assert.equal(count(lines, /^Live at /), 1, 'went live exactly once');
      const apps = await cluster.api<Array<{ app: string; liveDeploymentId?: string; deploymentId?: string }>>(
        'api2',
        'GET',
        '/api/apps',
      );
      assert.ok(JSON.stringify(apps.body).includes(id), 'the app’s live deployment is this one');
      const served = await fetchApp(done.url ?? null);
      assert.equal(served.status, 200);
      assert.match(served.body, /ticking: built/);
      assert.ok(app);
      // Docksage (another process) stored the app's runtime log and published it; any API replica serves it.
      const runtime = await cluster.api<string>('api2', 'GET', `/api/apps/${app}/runtime-logs`);
      assert.equal(runtime.status, 200);
      assert.match(JSON.stringify(runtime.body), /event.{0,6}text.{0,6}started/);
      // The request above went through Docksage's proxy; Docksage reports it on app.metrics (every 10 s) and the
      // other API replica answers from the report.
      const served2xx = async () => {
        const res = await cluster.api<{ buckets: Array<{ status2xx: number }> }>(
          'api2',
          'GET',
          `/api/apps/${app}/metrics`,
        );
        assert.equal(res.status, 200);
        return res.body.buckets.reduce((sum, b) => sum + b.status2xx, 0);
      };
      const reportedBy = Date.now() + 90_000;
      while ((await served2xx()) < 1) {
        assert.ok(Date.now() < reportedBy, 'the proxied request reached api2’s metrics within 90 s');
        await sleep(1_000);
      }
      const views = await cluster.api<Array<{ name: string; health?: { state: string } }>>('api2', 'GET', '/api/apps');
      assert.equal(views.body.find((v) => v.name === app)?.health?.state, 'healthy', 'AppView.health from the reports');
    } finally {
      // The next tests want two builders again.
      await cluster.spawn(victim, 'buildrelay');
    }
  });

  it('20 deployments at once with two builders: all terminal, every log complete and in order', async function () {
    const repos = Array.from({ length: 20 }, (_, i) => `alice/site-${i}`);
    for (const repo of repos) await cluster.addRepo(repo, join(TEST_FIXTURES, 'static-site'));
    const ids = await Promise.all(
      repos.map((repo, i) => cluster.deploy(i % 2 ? 'api1' : 'api2', repo).then((d) => d.id)),
    );
    const finals = await Promise.all(ids.map((id) => cluster.waitFor('api1', id, undefined, 280_000)));
    const failed = finals.filter((d) => d.status !== 'live');
    assert.deepEqual(failed, [], 'every deployment went live');
    for (const id of ids) {
      const lines = await cluster.logs('api2', id);
      assertContiguous(lines, `log of ${id}`);
      assert.equal(count(lines, /^Live at /), 1, `${id} went live once`);
    }
  });

  it('an API replica killed while a client streams logs: the client resumes on another replica and misses nothing', async function () {
    const { id } = await cluster.deploy('api2', 'alice/ticking');
    const received: number[] = [];
    let end: { status: string } | undefined;
    const stream = (via: string, since: number) =>
      new Promise<void>((resolve) => {
        const url = `${cluster.service(via).url.replace('http', 'ws')}/api/deployments/${id}/logs?since=${since}`;
        const ws = new WebSocket(url, { headers: { authorization: `Bearer ${cluster.alice.token}` } });
        ws.on('message', (data) => {
          const m = JSON.parse((data as Buffer).toString()) as { type: string; seq?: number; status: string };
          if (m.type === 'log' && m.seq !== undefined) received.push(m.seq);
          if (m.type === 'end') end = m;
        });
        ws.on('close', () => {
          resolve();
        });
        ws.on('error', () => {
          resolve();
        });
      });
    const first = stream('api1', 0);
    const deadline = Date.now() + 120_000;
    while (received.length < 5) {
      if (Date.now() > deadline) throw new Error('no log lines arrived on api1');
      await sleep(50);
    }
    await cluster.crash('api1');
    await first;
    // A client reconnects where it left off, on the replica that is still there.
    await stream('api2', received[received.length - 1]);
    assert.equal(end?.status, 'live');
    const stored = await cluster.logs('api2', id);
    assert.deepEqual(
      received,
      stored.map((l) => l.seq),
      'the client saw every stored line once, in order',
    );
    assertContiguous(stored, 'log');
    await cluster.spawn('api1', 'api');
  });

  it('the broker restarted mid-pipeline: the deployment completes with its whole log', async function () {
    await assertScriptBroker();
    const { id } = await cluster.deploy('api1', 'alice/ticking');
    await cluster.waitForLine('api1', id, /^tick 3\//);
    await run('bash', [join(REPO_ROOT, 'scripts/kafka.sh'), 'restart'], { env: process.env });
    const done = await cluster.waitFor('api1', id, undefined, 200_000);
    assert.equal(done.status, 'live', `ended ${done.status}: ${done.error}`);
    const lines = await cluster.logs('api2', id);
    assertContiguous(lines, 'log');
    assertTicks(lines);
    assert.equal(count(lines, /^Live at /), 1, 'went live once');
  });
});
