import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fetchApp } from '../helpers/appFetch';
import { World } from '../helpers/world';
import { assertTokenNeverSeen, eventually, HealthWatch, running, requireSandbox, type AttackReport } from './helpers';

/** The attempts that must all fail, whoever makes them (a build step or a live app). */
const MUST_FAIL = [
  'readSecretKey',
  'readDatabase',
  'readDatabaseWal',
  'writeOtherRelease',
  'poisonOtherHome',
  'poisonSharedHome',
  'hardLinkSecretKey',
  'readPlatformHome',
];

function assertContained(report: AttackReport, where: string): void {
  for (const name of MUST_FAIL) {
    assert.match(String(report[name]), /^refused: /, `${where}: ${name} must be refused, got ${String(report[name])}`);
  }
  // The data dir exists inside only as the skeleton of the run's own mount points (its HOME, its release, its
  // build tree and its own build cache's store).
  const listed = String(report.listDataDir)
    .replace(/^SUCCEEDED: /, '')
    .split(',');
  if (!String(report.listDataDir).startsWith('refused: '))
    for (const name of listed)
      assert.ok(['sandbox', 'work', 'releases', 'cache'].includes(name), `${where}: data dir shows ${name}`);
  assert.deepEqual(report.proc.tokens, [], `${where}: no token is readable in any /proc/*/environ or cmdline`);
  // Its own PID namespace: bubblewrap's init, the shell/npm chain and the attacker; never the host's hundreds.
  assert.ok(report.proc.pids <= 10, `${where}: sees only its own processes, saw ${report.proc.pids}`);
  if (process.getuid?.() === 0) assert.notEqual(report.uid, 0, `${where}: runs as its own uid, not root`);
}

/**
 * A second user (bob) deploys repos that attack the platform and the first user (alice), through the real
 * embedded platform: local builder and process runtime, each build step and app in the sandbox. Every attempt
 * must be refused or contained, and /healthz must answer within 1 s throughout.
 */
describe('hostile tenants: sandboxed builds and apps', function () {
  let world: World;
  let health: HealthWatch;
  let aliceApp: string;
  let aliceUrl: string;
  let aliceSite: string;
  let bobUrl: string;
  let hostileBuild: AttackReport;

  const hostileEnv = (extra: Record<string, string> = {}) => ({
    TARGET_DATA_DIR: world.dataDir,
    TARGET_APP: aliceApp,
    ...extra,
  });

  before(async function () {
    await requireSandbox(this);
    world = await World.start({
      env: { CLOUDSMITH_BUILD_MAX_MEMORY_MB: '400', CLOUDSMITH_APP_MEMORY_MB: '200' },
    });
    health = new HealthWatch(world.url).start();
    // The test platform takes its key from the environment; a key file makes the attempts on it real.
    const keyFile = join(world.dataDir, 'secret.key');
    if (!existsSync(keyFile)) writeFileSync(keyFile, `key-sentinel-${Date.now()}`, { mode: 0o600 });
    await world.addRepo('alice/site', 'static-site');
    const alice = await world.waitFor(world.alice, (await world.deploy(world.alice, { repo: 'alice/site' })).id);
    assert.equal(alice.status, 'live', alice.error ?? undefined);
    aliceApp = alice.app;
    aliceUrl = alice.url ?? '';
    aliceSite = (await fetchApp(aliceUrl)).body;
    // bob's hostile app goes live here, so each test below can also run alone (mocha -g).
    await world.addRepo('bob/hostile', 'hostile-node', { owner: world.bob });
    const bob = await world.deploy(world.bob, { repo: 'bob/hostile', env: hostileEnv() });
    const done = await world.waitFor(world.bob, bob.id);
    assert.equal(done.status, 'live', done.error ?? undefined);
    bobUrl = done.url ?? '';
    const line = (await world.logText(world.bob, bob.id)).split('\n').find((l) => l.startsWith('HOSTILE '));
    assert.ok(line, 'the hostile build reported its attempts');
    hostileBuild = JSON.parse(line.slice('HOSTILE '.length)) as AttackReport;
  });

  // before() may have skipped the suite (no sandbox here, named in CLOUDSMITH_TEST_SKIP) before setting these.
  after(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- see above
    health?.stop();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- see above
    await world?.close();
  });

  afterEach(() => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- see above
    if (!health) return;
    assert.deepEqual(health.failures, [], '/healthz answered every probe');
    assert.ok(health.slowestMs < 1000, `/healthz answered within 1 s throughout (slowest ${health.slowestMs} ms)`);
  });

  it("refuses a build's attempts on the data dir, the key, the DB and another app's release and HOME", async () => {
    assertContained(hostileBuild, 'build');
    assert.equal((await fetchApp(aliceUrl)).body, aliceSite, "alice's live site is untouched");
    const aliceNpmrc = join(world.dataDir, 'sandbox', 'homes', aliceApp, '.npmrc');
    assert.ok(!existsSync(aliceNpmrc) || !readFileSync(aliceNpmrc, 'utf8').includes('script-shell'));
  });

  it("refuses a live app's attempts alike, and it sees only its own processes", async () => {
    const report = JSON.parse((await fetchApp(bobUrl, '/report')).body) as AttackReport;
    assertContained(report, 'app');
    assert.equal(report.uid, hostileBuild.uid, "the app's build and its processes share the app's uid");
  });

  it("lets no process anywhere hold a token in its environment or argv during another user's fetch", async () => {
    await assertTokenNeverSeen(world.alice.token, bobUrl, async () => {
      await world.git.commit('alice/site', { 'index.html': '<html><body>alice v2</body></html>' });
      const done = await world.waitFor(world.alice, (await world.deploy(world.alice, { repo: 'alice/site' })).id);
      assert.equal(done.status, 'live', done.error ?? undefined);
    });
  });

  it("keeps one app's poisoned npm config out of another app's build", async () => {
    // bob's build above appended script-shell=<its evil hook> to its own ~/.npmrc; alice's npm build comes next.
    await world.addRepo('alice/print', 'print-env');
    const done = await world.waitFor(world.alice, (await world.deploy(world.alice, { repo: 'alice/print' })).id);
    const log = await world.logText(world.alice, done.id);
    assert.doesNotMatch(log, /POISONED-BY-HOSTILE/);
    assert.match(String(hostileBuild.poisonOwnNpmrc), /^SUCCEEDED/, "bob could only change his own app's HOME");
  });

  it('cancel stops a build process that escaped with setsid', async () => {
    const marker = `hostile-cancel-${Date.now()}`;
    const queued = await world.deploy(world.bob, {
      repo: 'bob/hostile',
      env: hostileEnv({ HOSTILE_MODE: 'cancel', HOSTILE_MARKER: marker }),
    });
    await eventually(() => running(marker) > 0, 'the escaped process to start', 180_000);
    const cancelled = await world.api(world.bob, 'POST', `/api/deployments/${queued.id}/cancel`);
    assert.equal(cancelled.status, 200);
    await eventually(() => running(marker) === 0, 'the escaped process to be killed', 30_000);
  });

  it('the build memory limit holds for a process that escaped with setsid', async () => {
    const marker = `hostile-memory-${Date.now()}`;
    const queued = await world.deploy(world.bob, {
      repo: 'bob/hostile',
      env: hostileEnv({ HOSTILE_MODE: 'memory', HOSTILE_MARKER: marker }),
    });
    const done = await world.waitFor(world.bob, queued.id);
    assert.equal(done.status, 'failed');
    // (The rest of the message is masked: "memory" is also the value of this app's HOSTILE_MODE.)
    assert.match(done.error ?? '', /build used more than 400 MiB/);
    await eventually(() => running(marker) === 0, 'the escaped process to be gone', 30_000);
  });

  it("a live app's setsid child is held to the app's memory limit and the app keeps serving", async () => {
    const marker = `hostile-hog-${Date.now()}`;
    await fetchApp(bobUrl, `/hog?marker=${marker}`);
    // The cgroup's OOM killer ends the hog (the largest process) long before it reaches its 2 GiB.
    await eventually(() => running(marker) === 0, 'the hog to be OOM-killed', 60_000);
    assert.equal((await fetchApp(bobUrl)).status, 200);
  });

  it('refuses a rootDir that leads through a symlink out of the repo (the platform packs with its own rights)', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'hostile-symlink-'));
    try {
      writeFileSync(join(repo, 'index.html'), '<html>decoy</html>');
      // leak/<data dir's name> is the data dir itself: packed as a static site, it would serve secret.key.
      symlinkSync(dirname(world.dataDir), join(repo, 'leak'));
      await world.host.addRepo('bob/symlink', repo, { owner: world.bob });
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
    const queued = await world.deploy(world.bob, { repo: 'bob/symlink', rootDir: `leak/${basename(world.dataDir)}` });
    const done = await world.waitFor(world.bob, queued.id);
    assert.equal(done.status, 'failed', `the deployment must not go live (${done.error ?? ''})`);
    assert.match(done.error ?? '', /outside the repository|symlink|refused|not a directory|escapes/i);
    const key = readFileSync(join(world.dataDir, 'secret.key'), 'utf8').trim();
    assert.ok(!(await world.logText(world.bob, queued.id)).includes(key), 'the key is not in the logs');
  });

  it('refuses a release whose build leaves links out of it', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'hostile-links-'));
    try {
      writeFileSync(
        join(repo, 'package.json'),
        JSON.stringify({
          name: 'links-out',
          private: true,
          // Made by the build, so no source check sees them: only the release's unpacking can.
          scripts: { build: 'ln -s ../../../.. up && ln -s /etc/passwd pw', start: 'node server.js' },
        }),
      );
      writeFileSync(
        join(repo, 'server.js'),
        'require("http").createServer((_q, r) => r.end("ok")).listen(process.env.PORT);',
      );
      await world.host.addRepo('bob/links', repo, { owner: world.bob });
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
    const queued = await world.deploy(world.bob, { repo: 'bob/links' });
    const done = await world.waitFor(world.bob, queued.id);
    assert.equal(done.status, 'failed', `the deployment must not go live (${done.error ?? ''})`);
    assert.match(done.error ?? '', /archive symlink "(\.\/)?(pw|up)" points/);
    assert.equal((await fetchApp(bobUrl)).status, 200, "bob's live app keeps serving");
  });
});
