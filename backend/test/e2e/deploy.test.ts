import assert from 'node:assert/strict';
import { fetchApp } from '../helpers/appFetch';
import { World } from '../helpers/world';
import type { AppView } from '@cloudsmith/client';

/** From a GitHub repo to a live URL, through the HTTP API, for each kind of app the platform detects. */
describe('e2e: deploying apps (embedded platform)', function () {
  let world: World;

  before(async () => {
    world = await World.start();
  });
  after(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
    await world?.close();
  });

  it('deploys a plain static site', async () => {
    await world.addRepo('alice/site', 'static-site');
    const queued = await world.deploy(world.alice, { repo: 'alice/site' });
    assert.equal(queued.status, 'queued');
    assert.equal(queued.app, 'site-alice');
    const done = await world.waitFor(world.alice, queued.id);
    assert.equal(done.status, 'live', done.error ?? undefined);
    assert.match(done.url ?? '', /^http:\/\/site-alice\.localhost:\d+$/);
    assert.match(done.commitSha ?? '', /^[0-9a-f]{40}$/);
    const page = await fetchApp(done.url);
    assert.equal(page.status, 200);
    assert.match(page.body, /<html/i);
    for (const key of ['fetchMs', 'buildMs', 'deployMs', 'totalMs'] as const)
      assert.equal(typeof done.timings[key], 'number', key);
  });

  it('deploys a Node server with dependencies (npm ci from its lockfile) and runs it with npm start', async () => {
    await world.addRepo('alice/api', 'node-express');
    const queued = await world.deploy(world.alice, { repo: 'alice/api' });
    const done = await world.waitFor(world.alice, queued.id);
    assert.equal(done.status, 'live', done.error ?? undefined);
    const page = await fetchApp(done.url);
    assert.equal(page.status, 200);
    assert.match(page.body, /hello from node-express/);
    const log = await world.logText(world.alice, queued.id);
    assert.match(log, /npm ci/);
  });

  it('deploys a Vite single-page app as static files with SPA fallback', async () => {
    await world.addRepo('alice/spa', 'vite-spa');
    const queued = await world.deploy(world.alice, { repo: 'alice/spa' });
    const done = await world.waitFor(world.alice, queued.id);
    assert.equal(done.status, 'live', done.error ?? undefined);
    assert.match((await fetchApp(done.url)).body, /vite-spa ok/);
    const deepLink = await fetchApp(done.url, '/some/client/route');
    assert.equal(deepLink.status, 200);
    assert.match(deepLink.body, /vite-spa ok/);
  });

  it('deploys an app from a monorepo subfolder with rootDir', async () => {
    await world.addRepo('alice/mono', 'monorepo');
    const queued = await world.deploy(world.alice, { repo: 'alice/mono', rootDir: 'apps/web' });
    const done = await world.waitFor(world.alice, queued.id);
    assert.equal(done.status, 'live', done.error ?? undefined);
    assert.equal((await fetchApp(done.url)).status, 200);
  });

  it('gives an app its env vars, and masks their values in logs and in the API', async () => {
    await world.addRepo('alice/envy', 'env-app');
    const queued = await world.deploy(world.alice, { repo: 'alice/envy', env: { GREETING: 'bonjour-from-env' } });
    const done = await world.waitFor(world.alice, queued.id);
    assert.equal(done.status, 'live', done.error ?? undefined);
    assert.match((await fetchApp(done.url)).body, /GREETING=bonjour-from-env/);
    const env = await world.api<{ env: Record<string, string> }>(world.alice, 'GET', `/api/apps/${done.app}/env`);
    assert.equal(env.status, 200);
    assert.ok(env.body.env.GREETING);
    assert.doesNotMatch(JSON.stringify(env.body), /bonjour-from-env/);
  });

  it('fails a broken build with its error in the status and the logs', async () => {
    await world.addRepo('alice/broken', 'failing-build');
    const queued = await world.deploy(world.alice, { repo: 'alice/broken' });
    const done = await world.waitFor(world.alice, queued.id);
    assert.equal(done.status, 'failed');
    assert.match(done.error ?? '', /exit(ed)? (with )?code 2|code 2/);
    assert.match(await world.logText(world.alice, queued.id), /BUILD_ERROR_MARKER/);
  });

  it('keeps the old release serving when a new one never gets healthy', async () => {
    await world.addRepo('alice/flaky', 'static-site');
    const first = await world.waitFor(world.alice, (await world.deploy(world.alice, { repo: 'alice/flaky' })).id);
    assert.equal(first.status, 'live', first.error ?? undefined);
    // Same app, a commit whose server answers 500: the health gate must refuse it.
    await world.git.commit('alice/flaky', {
      'package.json': JSON.stringify({ name: 'flaky', version: '1.0.0', scripts: { start: 'node server.js' } }),
      'server.js':
        "require('http').createServer((q, s) => { s.statusCode = 500; s.end('broken'); }).listen(process.env.PORT);",
    });
    const second = await world.waitFor(world.alice, (await world.deploy(world.alice, { repo: 'alice/flaky' })).id);
    assert.equal(second.status, 'failed');
    assert.match(second.error ?? '', /healthy/);
    const page = await fetchApp(first.url);
    assert.equal(page.status, 200);
    assert.match(page.body, /<html/i);
    const app = await world.api<AppView>(world.alice, 'GET', `/api/apps/${first.app}`);
    assert.equal(app.body.liveDeploymentId, first.id);
  });
});
