import assert from 'node:assert/strict';
import { join } from 'node:path';
import { disambiguatedAppName } from '../../src/api/appNames';
import { fetchApp } from '../helpers/appFetch';
import { World } from '../helpers/world';
import { pidsWhere } from '../helpers/processes';
import { eventually, HealthWatch } from './helpers';

const HOSTILE_FIXTURES = join(__dirname, 'fixtures');

interface DeploymentBody {
  id: string;
  app: string;
  status: string;
  url: string | null;
  error: string | null;
}

/**
 * Tenants try to make the platform lie or hand things over, through the real embedded platform: an app that
 * crash-loops or freezes, an older build finishing last, names that collide, a flood of bogus tokens. Each is
 * refused or shown as it is, and /healthz answers within 1 s throughout.
 */
describe('hostile tenants: a truthful lifecycle', function () {
  this.timeout(240_000);
  let world: World;
  let health: HealthWatch;

  before(async function () {
    world = await World.start({ env: { CLOUDSMITH_LIVENESS_INTERVAL_MS: '500' } });
    health = new HealthWatch(world.url).start();
  });

  after(async () => {
    health.stop();
    await world.close();
  });

  afterEach(() => {
    assert.deepEqual(health.failures, [], '/healthz answered every probe');
    assert.ok(health.slowestMs < 1000, `/healthz answered within 1 s throughout (slowest ${health.slowestMs} ms)`);
  });

  async function deployLive(repo: string, extra: Record<string, unknown> = {}): Promise<DeploymentBody> {
    const queued = (await world.deploy(world.alice, { repo, ...extra })) as DeploymentBody;
    const done: DeploymentBody = await world.waitFor(world.alice, queued.id);
    assert.equal(done.status, 'live', done.error ?? undefined);
    return done;
  }

  it('shows a crash-looping live app as crashed, with its last output', async () => {
    await world.host.addRepo('alice/crasher', join(HOSTILE_FIXTURES, 'crasher'), { owner: world.alice });
    const live = await deployLive('alice/crasher');
    assert.match((await fetchApp(live.url)).body, /^crasher \d+/);
    await fetchApp(live.url, '/crash');
    const crashed: DeploymentBody = await world.waitFor(world.alice, live.id, ['crashed'], 120_000);
    assert.match(crashed.error ?? '', /crashed 4 times in a row/);
    assert.match(crashed.error ?? '', /crashing at start/, 'its last output');
    const app = await world.api<{ liveDeploymentId: string }>(world.alice, 'GET', `/api/apps/${live.app}`);
    assert.equal(app.body.liveDeploymentId, live.id, 'still the release the app runs, crashed');
  });

  it('notices a frozen (SIGSTOPped) app, says crashed, restarts it and says live again', async () => {
    await world.host.addRepo('alice/freezer', join(HOSTILE_FIXTURES, 'crasher'), { owner: world.alice });
    const live = await deployLive('alice/freezer');
    const pids = pidsWhere((p) => p.cmdline.includes('crasher-server.js'));
    assert.ok(pids.length > 0, 'the app runs');
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    const crashed: DeploymentBody = await world.waitFor(world.alice, live.id, ['crashed'], 120_000);
    assert.match(crashed.error ?? '', /stopped answering its health check/);
    const back: DeploymentBody = await world.waitFor(world.alice, live.id, ['live'], 120_000);
    assert.equal(back.status, 'live');
    await eventually(async () => (await fetchApp(live.url)).status === 200, 'the restarted app to serve');
  });

  it('lets the newest requested deployment win when an older build finishes last', async () => {
    await world.host.addRepo('alice/race', join(HOSTILE_FIXTURES, 'crasher'), { owner: world.alice });
    const older = (await world.deploy(world.alice, { repo: 'alice/race', buildCommand: 'sleep 15' })) as DeploymentBody;
    await world.waitFor(world.alice, older.id, ['building', 'failed', 'cancelled']);
    const newer = await deployLive('alice/race');
    const olderDone: DeploymentBody = await world.waitFor(world.alice, older.id, ['superseded', 'failed', 'cancelled']);
    assert.equal(olderDone.status, 'superseded', olderDone.error ?? undefined);
    const app = await world.api<{ liveDeploymentId: string }>(world.alice, 'GET', `/api/apps/${newer.app}`);
    assert.equal(app.body.liveDeploymentId, newer.id, 'the newer deployment stays live');
    const current: DeploymentBody = await world.waitFor(world.alice, newer.id, ['live']);
    assert.equal(current.status, 'live');
  });

  it('claims app names atomically: no collision, no takeover, the fallback name checked too', async () => {
    const start = async (user: typeof world.alice, repo: string) => {
      const res = await world.api<DeploymentBody>(user, 'POST', '/api/deployments', { repo });
      // Only the name matters here; the build itself is stopped.
      if (res.status === 202) await world.api(user, 'POST', `/api/deployments/${res.body.id}/cancel`);
      return res;
    };
    await world.addRepo('alice/web.x', 'static-site');
    await world.addRepo('alice/web-x', 'static-site');
    const dotted = await start(world.alice, 'alice/web.x');
    const dashed = await start(world.alice, 'alice/web-x');
    assert.equal(dotted.status, 202);
    assert.equal(dashed.status, 202);
    assert.notEqual(dotted.body.app, dashed.body.app, 'web.x and web-x get different apps');

    // Bob's fallback name for acme/web is taken first by a repo of Alice's whose own name is exactly that.
    const bobUser = (await (
      await fetch(`${world.github.url}/user`, { headers: { authorization: `Bearer ${world.bob.token}` } })
    ).json()) as { id: number };
    const fallback = disambiguatedAppName('acme/web', String(bobUser.id));
    const squatter = `${fallback.slice('web-acme-'.length)}/web-acme`;
    await world.addRepo(squatter, 'static-site');
    await world.addRepo('acme/web', 'static-site');
    world.github.grant(world.bob.login, 'acme/web');
    const squat = await start(world.alice, squatter);
    assert.equal(squat.body.app, fallback);
    const alices = await start(world.alice, 'acme/web');
    assert.equal(alices.body.app, 'web-acme');
    await world.api(world.alice, 'PUT', '/api/apps/web-acme/env', { env: { ALICE_ONLY: 'alice-secret-value' } });

    const bobs = await start(world.bob, 'acme/web');
    assert.equal(bobs.status, 409, 'both candidate names are held by someone else: refused, not taken over');
    for (const name of ['web-acme', fallback]) {
      const app = await world.api<{ repo: string }>(world.alice, 'GET', `/api/apps/${name}`);
      assert.equal(app.status, 200, `${name} is still Alice's`);
      assert.equal((await world.api(world.bob, 'GET', `/api/apps/${name}`)).status, 404);
    }
    const env = await world.api<{ env: Record<string, string> }>(world.alice, 'GET', '/api/apps/web-acme/env');
    assert.ok('ALICE_ONLY' in env.body.env);
  });

  it('checks 2,000 bogus tokens with a few dozen GitHub calls, and reads no body before the token', async () => {
    const userCalls = () => world.github.calls.filter((c) => c.path === '/user').length;
    const before = userCalls();
    const statuses = new Map<number, number>();
    for (let batch = 0; batch < 40; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          world.api({ login: 'x', token: `ghp_bogus_${batch}_${i}_${'z'.repeat(20)}` }, 'GET', '/api/apps'),
        ),
      );
      for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
    }
    const calls = userCalls() - before;
    assert.ok(calls <= 60, `${calls} GitHub /user calls for 2,000 bogus tokens`);
    assert.deepEqual([...statuses.keys()].sort(), [401, 429]);
    assert.equal((await world.api(world.alice, 'GET', '/api/apps')).status, 200, 'a known token still works');
    const anonymous = await world.api(undefined, 'POST', '/api/deployments', '{not json');
    assert.equal(anonymous.status, 401, 'refused before its body is parsed');
  });
});
