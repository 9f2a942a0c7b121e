import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchApp } from '../helpers/appFetch';
import { World } from '../helpers/world';
import { deployLive } from './stacks';

/**
 * Server-side JS frameworks, run according to what their build produced. These installs are the slow
 * ones (npm's cache keeps them warm between runs), so there are only three.
 */
describe('stacks: JS frameworks deploy live with the local builder', function () {
  this.timeout(900_000);
  let world: World;

  before(async () => {
    world = await World.start({ env: { CLOUDSMITH_HEALTH_TIMEOUT_MS: '60000' } });
  });
  after(async () => {
    await world.close();
  });

  it('SvelteKit with adapter-node: build/ is a Node server, run with node build', async () => {
    await deployLive(world, {
      fixture: 'sveltekit-node',
      marker: /hello from sveltekit-node \(server\)/,
      log: [/SvelteKit build produced build\/ is a Node server \(adapter-node\): node build/],
    });
  });

  it('Astro without an adapter: static pages from dist/', async () => {
    await deployLive(world, {
      fixture: 'astro-static',
      marker: /hello from astro-static/,
      log: [/Astro build produced dist\/ holds static pages/],
    });
  });

  it('Next.js with `// output: "export"` commented out and output: standalone: node server.js, not a static export', async () => {
    const { done } = await deployLive(world, {
      fixture: 'next-standalone',
      marker: /hello from next-standalone/,
      log: [
        /\.next\/standalone\/server\.js \(output: "standalone"\): node server\.js/,
        /Copied public to \.next\/standalone\/public/,
        // Its own traced node_modules serve it: the root's are not shipped, not even as a layer.
        /Shipping only \.next\/standalone:/,
      ],
    });
    const robots = await fetchApp(done.url, '/robots.txt');
    assert.match(robots.body, /next-standalone public file/);

    // A redeploy, in the sandbox: the platform's trace-cache preload is readable there and reuses the first
    // build's analysis of the dependencies (runtime-assets/next-trace-cache.js; cache/nextTrace.test.ts).
    const index = readFileSync(join(__dirname, '..', 'fixtures', 'next-standalone', 'pages', 'index.js'), 'utf8');
    await world.git.commit(done.repo, { 'pages/index.js': `${index}\n// a code change\n` });
    const again = await deployLive(
      world,
      { fixture: 'next-standalone', marker: /hello from next-standalone/ },
      done.repo,
    );
    const report = /CloudSmith trace cache: (\d+) of (\d+) files' analysis reused/.exec(again.log);
    assert.ok(report, 'the trace cache reported in the build log');
    assert.ok(Number(report[1]) > 0.95 * Number(report[2]), report[0]);
  });
});
