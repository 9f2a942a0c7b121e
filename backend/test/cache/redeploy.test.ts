import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fetchApp } from '../helpers/appFetch';
import { World, type TestUser } from '../helpers/world';

interface Done {
  id: string;
  app: string;
  status: string;
  url?: string;
  error?: string;
}

const SERVER_V2 = `const express = require('express');
const app = express();
app.get('/', (_req, res) => res.send('hello from cached-express v2'));
app.listen(Number(process.env.PORT), process.env.HOST);
`;

/**
 * The build cache through the real API, the local builder and the sandbox: a redeploy after a code change
 * gets node_modules back and skips the install, and another user's build can neither read nor write the app's
 * cache, which goes with the app. (What invalidates a cache, and broken caches, are in buildCache.test.ts, without deploys.)
 */
describe('build cache: redeploys through the real API', function () {
  this.timeout(600_000);
  let world: World;

  before(async () => {
    world = await World.start();
  });
  after(async () => {
    await world.close();
  });

  async function deploy(user: TestUser, body: Record<string, unknown>): Promise<{ done: Done; log: string }> {
    const queued = await world.deploy(user, body);
    const done = (await world.waitFor(user, queued.id, undefined, 480_000)) as Done;
    const log = await world.logText(user, done.id);
    assert.equal(done.status, 'live', `${done.error ?? ''}\n${log.split('\n').slice(-30).join('\n')}`);
    return { done, log };
  }

  function cacheDir(app: string): string {
    return join(world.dataDir, 'cache', 'apps', app);
  }

  let aliceApp = '';

  it('a code change with the same lockfile: cache restored, install skipped, the new code live', async () => {
    const repo = 'alice/cached-express';
    await world.addRepo(repo, 'node-express');
    const cold = await deploy(world.alice, { repo });
    aliceApp = cold.done.app;
    assert.match(cold.log, /^cache not restored: no cache yet$/m);
    assert.match(cold.log, /^\$ npm ci/m);
    // Embedded, node_modules went to the runtime's layers as built; the cache copies it back after the build.
    assert.match(
      cold.log,
      /^cache saved \(\d+\.\d MB, \d+\.\d\d s; node_modules copied in from its release's layer after the build/m,
    );

    await world.git.commit(repo, { 'server.js': SERVER_V2 });
    const warm = await deploy(world.alice, { repo });
    assert.match(warm.log, /^cache restored \(\d+\.\d MB, \d+\.\d\d s\): node_modules, package store$/m);
    assert.match(warm.log, /^install skipped: /m);
    assert.doesNotMatch(warm.log, /^\$ npm ci/m);
    assert.match(warm.log, /^cache saved \(/m);
    assert.match((await fetchApp(warm.done.url ?? '')).body, /hello from cached-express v2/);
  });

  it("another user's build can neither read nor write the app's cache; its own store is writable", async () => {
    assert.ok(aliceApp, 'needs the first test');
    const target = cacheDir(aliceApp);
    assert.ok(existsSync(join(target, 'store')));
    const probe =
      `if ls '${target}' >/dev/null 2>&1; then echo "CACHE VISIBLE"; else echo "cache hidden"; fi; ` +
      `mkdir -p '${target}/store/npm/poison' 2>/dev/null; ` +
      'mkdir -p "$npm_config_cache" && touch "$npm_config_cache/own-ok" && echo "own store writable"';
    await world.addRepo('bob/prober', 'env-app', { owner: world.bob });
    const { done, log } = await deploy(world.bob, { repo: 'bob/prober', buildCommand: probe, env: { GREETING: 'hi' } });
    assert.match(log, /^cache hidden$/m);
    assert.doesNotMatch(log, /^CACHE VISIBLE$/m);
    assert.match(log, /^own store writable$/m);
    assert.equal(existsSync(join(target, 'store', 'npm', 'poison')), false);
    assert.ok(existsSync(join(cacheDir(done.app), 'store', 'npm', 'own-ok')));
    assert.ok(!readdirSync(join(world.dataDir, 'cache', 'apps')).includes('poison'));
  });

  it('deleting the app deletes its cache', async () => {
    assert.ok(aliceApp, 'needs the first test');
    assert.ok(existsSync(join(cacheDir(aliceApp), 'entry')));
    const res = await world.api(world.alice, 'DELETE', `/api/apps/${aliceApp}`);
    assert.ok(res.status < 300, `delete answered ${res.status}`);
    const deadline = Date.now() + 60_000;
    while (existsSync(cacheDir(aliceApp)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.equal(existsSync(cacheDir(aliceApp)), false);
  });
});
