import assert from 'node:assert/strict';
import { fetchApp } from '../helpers/appFetch';
import { World } from '../helpers/world';
import { alive, pidsWhere } from '../helpers/processes';
import type { DeploymentView } from '@cloudsmith/client';

type AppEnv = { env: Record<string, string> };

/** Running, not merely a zombie waiting for init to reap it (kill(pid, 0) succeeds on those). */
async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('e2e: cancel, redeploy, rollback and restarts', function () {
  let world: World;

  before(async () => {
    world = await World.start();
  });
  after(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
    await world?.close();
  });

  it('cancels a build mid-way and kills its whole process tree', async () => {
    await world.addRepo('alice/slow', 'slow-build');
    const queued = await world.deploy(world.alice, { repo: 'alice/slow' });
    let pids: number[] = [];
    await eventually(async () => {
      // The build prints pids as its sandbox's PID namespace numbers them; the host finds them by command and HOME.
      const printed = [...(await world.logText(world.alice, queued.id)).matchAll(/PID (\d+)/g)];
      pids = pidsWhere((p) => p.cmdline.includes('build.js') && p.environ.includes(world.dataDir));
      return printed.length >= 3 && pids.length >= 3;
    }, 120_000);
    assert.ok(pids.every(alive), 'build processes are running');
    const cancelled = await world.api<DeploymentView>(world.alice, 'POST', `/api/deployments/${queued.id}/cancel`);
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.status, 'cancelled');
    await eventually(() => pids.every((pid) => !alive(pid)));
    const again = await world.api(world.alice, 'POST', `/api/deployments/${queued.id}/cancel`);
    assert.equal(again.status, 409);
  });

  it('redeploys the same commit, supersedes the old release and rolls back without rebuilding', async () => {
    const firstSha = await world.addRepo('alice/history', 'static-site');
    const first = await world.waitFor(world.alice, (await world.deploy(world.alice, { repo: 'alice/history' })).id);
    assert.equal(first.status, 'live', first.error ?? undefined);

    await world.git.commit('alice/history', { 'index.html': '<html><body>version two</body></html>' });
    const second = await world.waitFor(world.alice, (await world.deploy(world.alice, { repo: 'alice/history' })).id);
    assert.equal(second.status, 'live', second.error ?? undefined);
    assert.match((await fetchApp(second.url)).body, /version two/);
    assert.equal(
      (await world.api<DeploymentView>(world.alice, 'GET', `/api/deployments/${first.id}`)).body.status,
      'superseded',
    );

    const redeploy = await world.api<DeploymentView>(world.alice, 'POST', `/api/deployments/${second.id}/redeploy`);
    assert.equal(redeploy.status, 202);
    const redeployed = await world.waitFor(world.alice, redeploy.body.id);
    assert.equal(redeployed.status, 'live', redeployed.error ?? undefined);
    assert.equal(redeployed.commitSha, second.commitSha);

    const rollback = await world.api<DeploymentView>(world.alice, 'POST', `/api/apps/${first.app}/rollback`, {
      deploymentId: first.id,
    });
    assert.equal(rollback.status, 202);
    const rolledBack = await world.waitFor(world.alice, rollback.body.id);
    assert.equal(rolledBack.status, 'live', rolledBack.error ?? undefined);
    assert.equal(rolledBack.commitSha, firstSha);
    assert.doesNotMatch((await fetchApp(rolledBack.url)).body, /version two/);
    assert.doesNotMatch(await world.logText(world.alice, rollback.body.id), /npm|Building/);

    const history = await world.api<DeploymentView[]>(world.alice, 'GET', '/api/deployments?repo=alice/history');
    assert.deepEqual(
      history.body.map((d: { id: string }) => d.id),
      [rollback.body.id, redeploy.body.id, second.id, first.id],
    );
  });

  it('survives a restart: history, logs and env are kept and live apps come back at the same URL', async () => {
    await world.addRepo('alice/durable', 'env-app');
    const live = await world.waitFor(
      world.alice,
      (await world.deploy(world.alice, { repo: 'alice/durable', env: { GREETING: 'still-here' } })).id,
    );
    assert.equal(live.status, 'live', live.error ?? undefined);
    const logBefore = await world.logText(world.alice, live.id);

    await world.restart();

    const page = await fetchApp(live.url);
    assert.equal(page.status, 200);
    assert.match(page.body, /GREETING=still-here/);
    assert.equal(
      (await world.api<DeploymentView>(world.alice, 'GET', `/api/deployments/${live.id}`)).body.status,
      'live',
    );
    assert.equal(await world.logText(world.alice, live.id), logBefore);
    assert.ok((await world.api<AppEnv>(world.alice, 'GET', `/api/apps/${live.app}/env`)).body.env.GREETING);
  });

  it('deletes an app: it stops serving, its app and env are gone, its history stays; nobody else can', async () => {
    await world.addRepo('alice/doomed', 'node-express');
    const live = await world.waitFor(
      world.alice,
      (await world.deploy(world.alice, { repo: 'alice/doomed', env: { APP_MODE: 'doomed-mode' } })).id,
    );
    assert.equal(live.status, 'live', live.error ?? undefined);
    assert.equal((await fetchApp(live.url)).status, 200);
    assert.equal((await world.api(world.bob, 'DELETE', `/api/apps/${live.app}`)).status, 404);

    assert.equal((await world.api(world.alice, 'DELETE', `/api/apps/${live.app}`)).status, 204);
    await eventually(async () => (await fetchApp(live.url)).status === 404);
    assert.equal((await world.api(world.alice, 'GET', `/api/apps/${live.app}`)).status, 404);
    assert.equal((await world.api(world.alice, 'GET', `/api/apps/${live.app}/env`)).status, 404);
    const history = await world.api<DeploymentView[]>(world.alice, 'GET', '/api/deployments?repo=alice/doomed');
    assert.deepEqual(
      history.body.map((d: { status: string }) => d.status),
      ['superseded'],
    );
    assert.equal((await world.api(world.alice, 'DELETE', `/api/apps/${live.app}`)).status, 404);

    // Deploying the repo again starts a fresh app under the same name, without the old env.
    const again = await world.waitFor(world.alice, (await world.deploy(world.alice, { repo: 'alice/doomed' })).id);
    assert.equal(again.status, 'live', again.error ?? undefined);
    assert.equal(again.app, live.app);
    assert.deepEqual((await world.api<AppEnv>(world.alice, 'GET', `/api/apps/${live.app}/env`)).body.env, {});
  });

  it('fails a deployment that was in flight when the platform stopped, with reason "interrupted"', async () => {
    await world.addRepo('alice/interrupted', 'slow-build');
    const queued = await world.deploy(world.alice, { repo: 'alice/interrupted' });
    await world.waitFor(world.alice, queued.id, ['building']);
    await world.restart();
    const after = await world.waitFor(world.alice, queued.id);
    assert.equal(after.status, 'failed');
    assert.match(after.error ?? '', /interrupted/);
  });
});
