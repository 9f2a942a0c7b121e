import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { DeploymentView } from '@cloudsmith/client';
import { sign } from '../../src/api/webhooks/signature';
import { fetchApp } from '../helpers/appFetch';
import { World } from '../helpers/world';

interface HookView {
  url: string;
  branch: string;
  secret?: string;
}

interface Delivery {
  status: number;
  body: { deployed?: boolean; deploymentId?: string; commitSha?: string; reason?: string; error?: { code: string } };
}

/** Push-to-deploy: GitHub's signed `push` deliveries, through the real API and the real git server. */
describe('e2e: GitHub push webhooks', function () {
  let world: World;
  let hook: HookView & { secret: string };
  const repo = 'alice/hooked';
  const app = 'hooked-alice';

  /** Posts a delivery as GitHub does: raw JSON, its HMAC in X-Hub-Signature-256, a delivery id. */
  async function deliver(
    payload: unknown,
    opts: { event?: string; delivery?: string; secret?: string | null; url?: string } = {},
  ): Promise<Delivery> {
    const raw = typeof payload === 'string' ? payload : JSON.stringify(payload);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-github-event': opts.event ?? 'push',
      'x-github-delivery': opts.delivery ?? randomUUID(),
    };
    if (opts.secret !== null) headers['x-hub-signature-256'] = sign(opts.secret ?? hook.secret, raw);
    const res = await fetch(opts.url ?? hook.url, { method: 'POST', headers, body: raw });
    return { status: res.status, body: (await res.json()) as Delivery['body'] };
  }

  const push = (after: string, branch = 'main') => ({
    ref: `refs/heads/${branch}`,
    before: '0'.repeat(40),
    after,
    repository: { full_name: repo },
  });

  async function deploymentCount(): Promise<number> {
    const res = await world.api<DeploymentView[]>(world.alice, 'GET', `/api/deployments?app=${app}`);
    return res.body.length;
  }

  before(async () => {
    world = await World.start();
    await world.addRepo(repo, 'static-site');
    const first = await world.deploy(world.alice, { repo });
    assert.equal((await world.waitFor(world.alice, first.id)).status, 'live');
    const res = await world.api<HookView>(world.alice, 'POST', `/api/apps/${app}/hooks`, {});
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.ok(res.body.secret);
    hook = { ...res.body, secret: res.body.secret };
  });
  after(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
    await world?.close();
  });

  it('gives the owner the URL and a secret once; the branch is the one the app was first deployed from', async () => {
    assert.equal(hook.branch, 'main');
    assert.equal(hook.url, `${world.url}/api/webhooks/github?app=${app}`);
    const read = await world.api<HookView>(world.alice, 'GET', `/api/apps/${app}/hooks`);
    assert.equal(read.status, 200);
    assert.equal(read.body.url, hook.url);
    assert.equal(read.body.secret, undefined);
  });

  it('lets no other user read or create the hooks of the app', async () => {
    for (const method of ['GET', 'POST', 'DELETE']) {
      const res = await world.api(world.bob, method, `/api/apps/${app}/hooks`, method === 'POST' ? {} : undefined);
      assert.equal(res.status, 404, method);
    }
    assert.equal((await world.api(undefined, 'GET', `/api/apps/${app}/hooks`)).status, 401);
  });

  it('deploys exactly the pushed commit of the production branch, and it goes live', async () => {
    const sha = await world.git.commit(repo, { 'index.html': '<html><body>pushed v2</body></html>\n' });
    const res = await deliver(push(sha));
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal(res.body.deployed, true);
    assert.equal(res.body.commitSha, sha);
    const done = await world.waitFor(world.alice, res.body.deploymentId ?? '');
    assert.equal(done.status, 'live', done.error ?? undefined);
    assert.equal(done.commitSha, sha);
    assert.equal(done.ref, 'main');
    assert.match((await fetchApp(done.url)).body, /pushed v2/);
  });

  it('does nothing for a replayed delivery', async () => {
    const sha = await world.git.commit(repo, { 'index.html': '<html><body>pushed v3</body></html>\n' });
    const delivery = randomUUID();
    const first = await deliver(push(sha), { delivery });
    assert.equal(first.status, 202);
    await world.waitFor(world.alice, first.body.deploymentId ?? '');
    const before = await deploymentCount();
    const again = await deliver(push(sha), { delivery });
    assert.equal(again.status, 200);
    assert.equal(again.body.deployed, false);
    assert.equal(await deploymentCount(), before);
  });

  it('refuses a bad or missing signature (401) and deploys nothing', async () => {
    const sha = await world.git.commit(repo, { 'index.html': '<html><body>forged</body></html>\n' });
    const before = await deploymentCount();
    assert.equal((await deliver(push(sha), { secret: 'not-the-secret' })).status, 401);
    assert.equal((await deliver(push(sha), { secret: null })).status, 401);
    // The right signature for another app's (absent) hook is no better.
    assert.equal((await deliver(push(sha), { url: `${world.url}/api/webhooks/github?app=nope-alice` })).status, 401);
    assert.equal(await deploymentCount(), before);
  });

  it('ignores a push to another branch, other events, and answers ping', async () => {
    const sha = await world.git.commit(repo, { 'index.html': 'feature' }, { branch: 'feature' });
    const before = await deploymentCount();
    const other = await deliver(push(sha, 'feature'));
    assert.equal(other.status, 202);
    assert.equal(other.body.deployed, false);
    assert.match(other.body.reason ?? '', /not the production branch main/);
    assert.equal((await deliver({ zen: 'hi' }, { event: 'ping' })).status, 200);
    assert.equal((await deliver({ action: 'opened' }, { event: 'issues' })).status, 202);
    assert.equal(await deploymentCount(), before);
  });

  it('refuses a delivery over 1 MiB with 413', async () => {
    const res = await deliver({ padding: 'x'.repeat(1024 * 1024 + 10) });
    assert.equal(res.status, 413);
  });

  it('stops deploying once the owner disables the hook', async () => {
    assert.equal((await world.api(world.alice, 'DELETE', `/api/apps/${app}/hooks`)).status, 204);
    const sha = await world.git.commit(repo, { 'index.html': 'after disable' });
    assert.equal((await deliver(push(sha))).status, 401);
  });

  it('forgets the hook (and its sealed token) when the app is deleted', async () => {
    const res = await world.api<HookView>(world.alice, 'POST', `/api/apps/${app}/hooks`, {});
    assert.equal(res.status, 201);
    assert.ok(res.body.secret);
    hook = { ...res.body, secret: res.body.secret };
    const sha = await world.git.commit(repo, { 'index.html': 'before delete' });
    assert.equal((await world.api(world.alice, 'DELETE', `/api/apps/${app}`)).status, 204);
    assert.equal((await deliver(push(sha))).status, 401, 'no hook is left to verify the delivery');
  });
});
