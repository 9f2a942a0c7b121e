import assert from 'node:assert/strict';
import { fetchApp } from '../helpers/appFetch';
import { cli } from '../helpers/cli';
import { World } from '../helpers/world';

describe('e2e: the cloudsmith CLI', function () {
  let world: World;

  before(async () => {
    world = await World.start();
  });
  after(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
    await world?.close();
  });

  it('deploys, streams the logs live and prints the URL', async () => {
    await world.addRepo('alice/cli-site', 'static-site');
    const result = await cli(world, ['deploy', 'alice/cli-site', '--env', 'MODE=cli']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /\[fetch\] Fetching alice\/cli-site/);
    assert.match(result.stdout, /── live/);
    const url = /Live: (\S+)/.exec(result.stdout)?.[1];
    assert.ok(url, result.stdout);
    assert.equal((await fetchApp(url)).status, 200);

    const ls = await cli(world, ['ls']);
    assert.match(ls.stdout, /cli-site-alice\s+alice\/cli-site/);
    const history = await cli(world, ['ls', '--repo', 'alice/cli-site']);
    const id = /^([0-9a-f-]{36})\s+live/m.exec(history.stdout)?.[1];
    assert.ok(id, history.stdout);
    const logs = await cli(world, ['logs', id]);
    assert.match(logs.stdout, /Live at/);
    const env = await cli(world, ['env', 'cli-site-alice']);
    assert.match(env.stdout, /^MODE=/m);
  });

  it('exits non-zero with the reason when the deployment fails, and on bad usage', async () => {
    await world.addRepo('alice/cli-broken', 'failing-build');
    const failed = await cli(world, ['deploy', 'alice/cli-broken']);
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /Deployment failed: /);
    const refused = await cli(world, ['deploy', 'alice/no-such-repo']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /not found \(HTTP 404\)/);
    assert.equal((await cli(world, ['deploy'])).code, 2);
    assert.equal((await cli(world, ['frobnicate'])).code, 2);
  });

  it('rolls back to the previous release by default', async () => {
    await world.addRepo('alice/cli-roll', 'static-site');
    assert.equal((await cli(world, ['deploy', 'alice/cli-roll'])).code, 0);
    await world.git.commit('alice/cli-roll', { 'index.html': '<html><body>second</body></html>' });
    assert.equal((await cli(world, ['deploy', 'alice/cli-roll'])).code, 0);
    const rollback = await cli(world, ['rollback', 'cli-roll-alice']);
    assert.equal(rollback.code, 0, rollback.stderr);
    const url = /Live: (\S+)/.exec(rollback.stdout)?.[1];
    assert.doesNotMatch((await fetchApp(url ?? null)).body, /second/);

    const removed = await cli(world, ['rm', 'cli-roll-alice']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /Deleted cli-roll-alice/);
    assert.doesNotMatch((await cli(world, ['ls'])).stdout, /cli-roll-alice/);
  });
});
