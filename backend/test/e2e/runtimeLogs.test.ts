import assert from 'node:assert/strict';
import { ApiError, CloudSmithClient, type AppMetrics, type AppView, type RuntimeLogLine } from '@cloudsmith/client';
import { runtimeLineBytes } from '../../src/domain/runtimeLog';
import { RUNTIME_LOG_KEEP_BYTES } from '../../src/runtimeLogs/runtimeLogWriter';
import { fetchApp } from '../helpers/appFetch';
import { cli } from '../helpers/cli';
import { World, type TestUser } from '../helpers/world';

const SECRET = 'rt-secret-7f3a9c21';

/** Waits for a condition; generous, because a loaded CI machine delays everything. */
async function until<T>(
  what: string,
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`${what}: not met in ${timeoutMs} ms; last: ${JSON.stringify(value).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('e2e: runtime logs and metrics of a live app', function () {
  let world: World;
  let app: string;
  let url: string;
  let deploymentId: string;

  const client = (user: TestUser) => new CloudSmithClient({ baseUrl: world.url, token: () => user.token });
  const lines = () => client(world.alice).runtimeLogs(app);
  const totals = (m: AppMetrics) =>
    m.buckets.reduce(
      (t, b) => ({
        requests: t.requests + b.requests,
        s2: t.s2 + b.status2xx,
        s4: t.s4 + b.status4xx,
        s5: t.s5 + b.status5xx,
        restarts: t.restarts + b.restarts,
      }),
      { requests: 0, s2: 0, s4: 0, s5: 0, restarts: 0 },
    );

  before(async () => {
    world = await World.start();
    await world.addRepo('alice/rtlogs', 'runtime-logs');
    const queued = await world.deploy(world.alice, { repo: 'alice/rtlogs', env: { SECRET_TOKEN: SECRET } });
    const live = await world.waitFor(world.alice, queued.id);
    assert.equal(live.status, 'live', live.error ?? undefined);
    app = live.app;
    url = live.url ?? '';
    deploymentId = live.id;
  });
  after(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
    await world?.close();
  });

  it("keeps the app's stdout and stderr with a start event, masked, and streams new lines live", async () => {
    const boot = await until('boot lines', lines, (ls) => ls.some((l) => l.text === 'boot: stderr line'));
    const started = boot.find((l) => l.stream === 'event');
    assert.equal(started?.text, 'started');
    assert.equal(started.deploymentId, deploymentId);
    assert.ok(boot.some((l) => l.stream === 'stdout' && l.text === 'boot: stdout line'));
    assert.ok(boot.some((l) => l.stream === 'stderr' && l.text === 'boot: stderr line'));
    assert.deepEqual(
      boot.map((l) => l.seq),
      boot.map((_l, i) => i + 1),
    );

    const live: RuntimeLogLine[] = [];
    const errors: Error[] = [];
    const follower = client(world.alice).followRuntimeLogs(app, {
      since: boot[0].seq,
      onLine: (line) => live.push(line),
      onError: (err) => errors.push(err),
    });
    try {
      await until(
        'backlog after since',
        async () => live,
        (ls) => ls.some((l) => l.text === 'boot: stderr line'),
      );
      assert.ok(
        live.every((l) => l.seq > boot[0].seq),
        'nothing at or before since',
      );
      assert.equal((await fetchApp(url, '/secret')).status, 200);
      await until(
        'live line',
        async () => live,
        (ls) => ls.some((l) => l.text.startsWith('the secret is')),
      );
      const secretLine = live.find((l) => l.text.startsWith('the secret is'));
      assert.ok(secretLine && !secretLine.text.includes(SECRET), `masked: ${secretLine?.text}`);
      assert.deepEqual(
        live.map((l) => l.seq),
        live.map((_l, i) => live[0].seq + i),
        'every line once, in order',
      );
      assert.deepEqual(errors, []);
    } finally {
      follower.close();
    }
    const stored = JSON.stringify(await lines());
    assert.ok(!stored.includes(SECRET), 'the stored log is masked too');
  });

  it('refuses runtime logs, their stream and metrics of an app to another user (404)', async () => {
    const bob = client(world.bob);
    await assert.rejects(bob.runtimeLogs(app), (err) => err instanceof ApiError && err.status === 404);
    await assert.rejects(bob.metrics(app), (err) => err instanceof ApiError && err.status === 404);
    const refused = await new Promise<Error>((resolve) => {
      const follower = bob.followRuntimeLogs(app, {
        onLine: () => undefined,
        onError: (err) => {
          follower.close();
          resolve(err);
        },
      });
    });
    assert.ok(refused instanceof ApiError && refused.status === 404, String(refused));
    const anonymous = await world.api(undefined, 'GET', `/api/apps/${app}/runtime-logs`);
    assert.equal(anonymous.status, 401);
  });

  it('counts requests through the proxy by status class, with latency, memory and health', async () => {
    for (const path of ['/', '/', '/', '/status/201', '/status/404', '/status/404', '/status/500']) {
      await fetchApp(url, path);
    }
    const metrics = await until(
      'requests counted',
      () => client(world.alice).metrics(app),
      (m) => totals(m).s5 >= 1,
    );
    const t = totals(metrics);
    assert.equal(metrics.app, app);
    assert.equal(metrics.windowSeconds, 3600);
    assert.equal(metrics.bucketSeconds, 60);
    assert.equal(metrics.buckets.length, 60);
    // The secret request of the test before also went through the proxy; the health gate's probes do not.
    assert.ok(t.s2 >= 4, `2xx: ${t.s2}`);
    assert.equal(t.s4, 2);
    assert.equal(t.s5, 1);
    assert.equal(t.requests, t.s2 + t.s4 + t.s5);
    const busy = metrics.buckets.filter((b) => b.requests > 0);
    assert.ok(busy.every((b) => b.p50Ms !== null && b.p95Ms !== null && b.p50Ms <= b.p95Ms));
    assert.ok(
      metrics.buckets.some((b) => (b.memoryMb ?? 0) > 0),
      'memory is read',
    );
    assert.deepEqual(metrics.health, { state: 'healthy' });
    const apps = (await world.api<AppView[]>(world.alice, 'GET', '/api/apps')).body;
    assert.deepEqual(apps.find((a) => a.name === app)?.health, { state: 'healthy' });
  });

  it('says "erroring" when most recent requests answer 5xx', async () => {
    for (let i = 0; i < 12; i++) await fetchApp(url, '/status/503');
    const metrics = await client(world.alice).metrics(app);
    assert.equal(metrics.health.state, 'erroring', JSON.stringify(metrics.health));
    const apps = (await world.api<AppView[]>(world.alice, 'GET', '/api/apps')).body;
    assert.equal(apps.find((a) => a.name === app)?.health?.state, 'erroring');
  });

  it('shows a crash and the restart as event lines, and counts the restart', async () => {
    const before = (await lines()).at(-1)?.seq ?? 0;
    await fetchApp(url, '/crash');
    const after = await until(
      'crash and restart events',
      async () => await client(world.alice).runtimeLogs(app, before),
      (ls) => ls.some((l) => l.stream === 'event' && l.text.startsWith('restarted')),
    );
    const events = after.filter((l) => l.stream === 'event').map((l) => l.text);
    assert.match(events[0], /^crashed \(exited with code 3\), restarting in \d/);
    assert.ok(after.some((l) => l.stream === 'stderr' && l.text === 'crash: exiting with code 3'));
    const metrics = await until(
      'restart counted',
      () => client(world.alice).metrics(app),
      (m) => totals(m).restarts >= 1,
    );
    assert.equal(metrics.health.state, 'crashing', JSON.stringify(metrics.health));
    await until(
      'serving again',
      () => fetchApp(url, '/'),
      (r) => r.status === 200,
    );
  });

  it('prints the runtime log with `cloudsmith logs --app`', async () => {
    const result = await cli(world, ['logs', '--app', app]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /stdout boot: stdout line/);
    assert.match(result.stdout, /stderr boot: stderr line/);
    assert.match(result.stdout, /── started/);
    const refused = await cli(world, ['logs', '--app', 'no-such-app']);
    assert.notEqual(refused.code, 0);
  });

  it('keeps storage under the cap while the app floods its output, and the API stays responsive', async () => {
    assert.equal((await fetchApp(url, '/flood?mb=8')).status, 200);
    // The platform answers while the flood is read: its health endpoint and the app's own log route.
    const health = await world.api<{ ok: boolean }>(undefined, 'GET', '/healthz');
    assert.equal(health.body.ok, true);
    await until(
      'the drop said',
      lines,
      (ls) => ls.some((l) => l.stream === 'event' && /lines not kept/.test(l.text)),
      120_000,
    );
    const kept = await lines();
    const bytes = kept.reduce((sum, l) => sum + runtimeLineBytes(l), 0);
    assert.ok(bytes <= RUNTIME_LOG_KEEP_BYTES, `kept ${bytes} bytes, cap ${RUNTIME_LOG_KEEP_BYTES}`);
    assert.ok(
      kept.some((l) => l.stream === 'event' && /lines not kept/.test(l.text)),
      'the drop is said',
    );
    assert.equal((await fetchApp(url, '/')).status, 200);
  });
});
