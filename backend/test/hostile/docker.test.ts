import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerCli } from '../../src/adapters/docker/cli';
import { appFilter } from '../../src/adapters/docker/names';
import { fetchApp } from '../helpers/appFetch';
import { World } from '../helpers/world';
import { removeApps, requireDocker } from '../docker/helpers';
import { assertTokenNeverSeen, eventually, HealthWatch, running, type AttackReport } from './helpers';

/** The attempts on the platform's files and another app's files: none of them exists inside a container. */
const MUST_FAIL = [
  'readSecretKey',
  'readDatabase',
  'readDatabaseWal',
  'listDataDir',
  'writeOtherRelease',
  'poisonOtherHome',
  'poisonSharedHome',
  'hardLinkSecretKey',
];

function assertContained(report: AttackReport, where: string): void {
  for (const name of MUST_FAIL) {
    assert.match(String(report[name]), /^refused: /, `${where}: ${name} must be refused, got ${String(report[name])}`);
  }
  assert.deepEqual(report.proc.tokens, [], `${where}: no token is readable in any /proc/*/environ or cmdline`);
  // Its own PID namespace: the container's init, the npm chain and the attacker; never the host's hundreds.
  assert.ok(report.proc.pids <= 10, `${where}: sees only its own processes, saw ${report.proc.pids}`);
}

/**
 * The attacks of sandbox.test.ts against a platform with the Docker builder and runtime: a second user (bob)
 * deploys a repo that attacks the platform and the first user (alice) from its build (a `docker build` step) and
 * its live app (a container). Every attempt must be refused or contained, and /healthz must answer within 1 s.
 */
describe('hostile tenants: Docker builds and apps', function () {
  this.timeout(900_000);
  let world: World | undefined;
  let docker: DockerCli | undefined;
  let health: HealthWatch | undefined;
  const apps = new Set<string>();
  let aliceApp = '';
  let aliceUrl = '';
  let aliceSite = '';
  let bobUrl = '';
  let bobApp = '';
  let hostileBuild: AttackReport;

  const hostileEnv = (w: World, extra: Record<string, string> = {}) => ({
    TARGET_DATA_DIR: w.dataDir,
    TARGET_APP: aliceApp,
    // The fixture listens on 127.0.0.1 unless told otherwise; a container is reached on its published port.
    HOST: '0.0.0.0',
    ...extra,
  });

  before(async function () {
    const env = requireDocker(this);
    docker = new DockerCli({ host: env.host });
    const w = await World.start({
      env: {
        CLOUDSMITH_BUILDER: 'docker',
        CLOUDSMITH_RUNTIME: 'docker',
        CLOUDSMITH_DOCKER_HOST: env.host,
        CLOUDSMITH_REGISTRY: env.registry,
        CLOUDSMITH_BASE_IMAGE: env.baseImage,
        CLOUDSMITH_BUILD_MAX_MEMORY_MB: '400',
        CLOUDSMITH_DOCKER_MEMORY_MB: '200',
        CLOUDSMITH_HEALTH_TIMEOUT_MS: '60000',
      },
    });
    world = w;
    health = new HealthWatch(w.url).start();
    // The test platform takes its key from the environment; a key file makes the attempts on it real.
    const keyFile = join(w.dataDir, 'secret.key');
    if (!existsSync(keyFile)) writeFileSync(keyFile, `key-sentinel-${Date.now()}`, { mode: 0o600 });
    await w.addRepo('alice/site', 'static-site');
    const alice = await w.waitFor(w.alice, (await w.deploy(w.alice, { repo: 'alice/site' })).id);
    apps.add(alice.app);
    assert.equal(alice.status, 'live', alice.error ?? undefined);
    aliceApp = alice.app;
    aliceUrl = alice.url ?? '';
    aliceSite = (await fetchApp(aliceUrl)).body;
    await w.addRepo('bob/hostile', 'hostile-node', { owner: w.bob });
    const bob = await w.deploy(w.bob, { repo: 'bob/hostile', env: hostileEnv(w) });
    apps.add(bob.app);
    const done = await w.waitFor(w.bob, bob.id);
    assert.equal(done.status, 'live', done.error ?? undefined);
    bobUrl = done.url ?? '';
    bobApp = done.app;
    // `docker build` prefixes each line of a step's output (e.g. "#8 0.41 "), so the report is found, not anchored.
    const match = /HOSTILE (\{.*\})/.exec(await w.logText(w.bob, bob.id));
    assert.ok(match?.[1], 'the hostile build reported its attempts');
    hostileBuild = JSON.parse(match[1]) as AttackReport;
  });

  after(async () => {
    health?.stop();
    await world?.close();
    if (docker) await removeApps(docker, apps);
  });

  afterEach(() => {
    if (!health) return;
    assert.deepEqual(health.failures, [], '/healthz answered every probe');
    assert.ok(health.slowestMs < 1000, `/healthz answered within 1 s throughout (slowest ${health.slowestMs} ms)`);
  });

  it("refuses a build's attempts on the data dir, the key, the DB and another app's files", async () => {
    assertContained(hostileBuild, 'build');
    assert.equal((await fetchApp(aliceUrl)).body, aliceSite, "alice's live site is untouched");
  });

  it("refuses a live app's attempts alike, and it sees only its own processes", async () => {
    const report = JSON.parse((await fetchApp(bobUrl, '/report')).body) as AttackReport;
    assertContained(report, 'app');
    assert.notEqual(report.uid, 0, 'the app does not run as root in its container');
  });

  it("lets no process anywhere hold a token in its environment or argv during another user's fetch", async () => {
    assert.ok(world);
    const w = world;
    await assertTokenNeverSeen(w.alice.token, bobUrl, async () => {
      await w.git.commit('alice/site', { 'index.html': '<html><body>alice v2</body></html>' });
      const done = await w.waitFor(w.alice, (await w.deploy(w.alice, { repo: 'alice/site' })).id);
      assert.equal(done.status, 'live', done.error ?? undefined);
    });
  });

  it('cancel stops a build process that escaped with setsid', async () => {
    assert.ok(world);
    const marker = `hostile-cancel-${Date.now()}`;
    const queued = await world.deploy(world.bob, {
      repo: 'bob/hostile',
      env: hostileEnv(world, { HOSTILE_MODE: 'cancel', HOSTILE_MARKER: marker }),
    });
    await eventually(() => running(marker) > 0, 'the escaped process to start', 300_000);
    const cancelled = await world.api(world.bob, 'POST', `/api/deployments/${queued.id}/cancel`);
    assert.equal(cancelled.status, 200);
    await eventually(() => running(marker) === 0, 'the escaped process to be killed', 60_000);
  });

  it('the build memory limit holds for a process that escaped with setsid', async () => {
    assert.ok(world);
    const marker = `hostile-memory-${Date.now()}`;
    const queued = await world.deploy(world.bob, {
      repo: 'bob/hostile',
      env: hostileEnv(world, { HOSTILE_MODE: 'memory', HOSTILE_MARKER: marker }),
    });
    await eventually(() => running(marker) > 0, 'the escaped process to start', 300_000);
    // The build step's cgroup OOM-kills the hog (the largest process) long before it reaches its 2 GiB.
    await eventually(() => running(marker) === 0, 'the hog to be OOM-killed', 120_000);
    // The build itself only waits: cancel ends it.
    assert.equal((await world.api(world.bob, 'POST', `/api/deployments/${queued.id}/cancel`)).status, 200);
  });

  it("a live app's setsid child is held to the container's memory limit and the app keeps serving", async () => {
    assert.ok(docker);
    const cli = docker;
    // By name: a build of the app (its intermediate containers carry the app's label too) may still be going away.
    const appContainer = async () =>
      (await cli.output(['ps', '--format', '{{.ID}} {{.Names}}', ...appFilter(bobApp)]))
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split(' ', 2) as [string, string])
        .find(([, name]) => name.startsWith(`cloudsmith-${bobApp}-`))?.[0];
    const container = await appContainer();
    assert.ok(container, "bob's app has a running container");
    // The container's cgroup counts its OOM kills (cgroup v2 memory.events, v1 memory.oom_control).
    const oomKills = async () => {
      const out = await cli.output([
        'exec',
        container,
        'sh',
        '-c',
        'cat /sys/fs/cgroup/memory.events /sys/fs/cgroup/memory/memory.oom_control 2>/dev/null; true',
      ]);
      return Number(/^oom_kill (\d+)/m.exec(out)?.[1] ?? 'NaN');
    };
    const before = await oomKills();
    assert.ok(Number.isInteger(before), 'the OOM kill count is readable');
    const marker = `hostile-hog-${Date.now()}`;
    assert.deepEqual(JSON.parse((await fetchApp(bobUrl, `/hog?marker=${marker}`)).body), { started: true });
    // The OOM killer ends the hog (the largest process) long before it reaches its 2 GiB.
    await eventually(async () => (await oomKills()) > before, 'the hog to be OOM-killed', 120_000);
    await eventually(() => running(marker) === 0, 'the hog to be gone', 60_000);
    assert.equal((await fetchApp(bobUrl)).status, 200);
    assert.equal(await appContainer(), container, 'the app itself was not killed or restarted');
  });
});
