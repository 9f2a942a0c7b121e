import assert from 'node:assert/strict';
import { DockerCli } from '../../src/adapters/docker/cli';
import { appFilter } from '../../src/adapters/docker/names';
import { fetchApp } from '../helpers/appFetch';
import { World } from '../helpers/world';
import { removeApps, requireDocker } from './helpers';
import type { DeploymentView } from '@cloudsmith/client';

const MEMORY_MB = 160;

/** The whole platform with builder=docker and runtime=docker: from a repo to an image in the registry to a container behind the proxy. */
describe('e2e: Docker builder and runtime through the platform', function () {
  this.timeout(300_000);
  let world: World;
  let docker: DockerCli;
  const apps = new Set<string>();

  before(async function () {
    const env = requireDocker(this);
    docker = new DockerCli({ host: env.host });
    world = await World.start({
      env: {
        CLOUDSMITH_BUILDER: 'docker',
        CLOUDSMITH_RUNTIME: 'docker',
        CLOUDSMITH_DOCKER_HOST: env.host,
        CLOUDSMITH_REGISTRY: env.registry,
        CLOUDSMITH_BASE_IMAGE: env.baseImage,
        CLOUDSMITH_DOCKER_MEMORY_MB: String(MEMORY_MB),
      },
    });
  });

  after(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
    await world?.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
    if (docker) await removeApps(docker, apps);
  });

  async function deploy(repo: string, body: Record<string, unknown> = {}) {
    const queued = await world.deploy(world.alice, { repo, ...body });
    apps.add(queued.app);
    return { queued, done: await world.waitFor(world.alice, queued.id) };
  }

  async function containersOf(app: string): Promise<string[]> {
    return (await docker.output(['ps', '--quiet', ...appFilter(app)])).split('\n').filter(Boolean);
  }

  it('deploys a Node server with dependencies as an image, with its env, and rolls back to an earlier image', async () => {
    await world.addRepo('alice/api', 'node-express');
    const { queued, done } = await deploy('alice/api', { env: { APP_COLOR: 'blue', APP_LINES: 'one\ntwo' } });
    assert.equal(done.status, 'live', done.error ?? undefined);
    assert.match((await fetchApp(done.url)).body, /hello from node-express/);
    // Env through the 0600 env file and, for the multi-line value, by name through the CLI's environment.
    assert.deepEqual(JSON.parse((await fetchApp(done.url, '/env')).body), { APP_COLOR: 'blue', APP_LINES: 'one\ntwo' });
    const log = await world.logText(world.alice, queued.id);
    assert.match(log, /npm ci/);
    assert.match(log, /Pushed .*\/api-alice:[0-9a-f]{40}/);
    assert.match(log, /node-express listening on 8080/, 'container output reaches the deployment log');
    assert.equal((await containersOf(done.app)).length, 1);

    await world.git.commit('alice/api', {
      'server.js': "require('http').createServer((q, s) => s.end('second release')).listen(Number(process.env.PORT));",
    });
    const second = await deploy('alice/api');
    assert.equal(second.done.status, 'live', second.done.error ?? undefined);
    assert.match((await fetchApp(done.url)).body, /second release/);
    assert.equal((await containersOf(done.app)).length, 1, 'the previous container is removed after the swap');

    const rollback = await world.api<DeploymentView>(world.alice, 'POST', `/api/apps/${done.app}/rollback`, {
      deploymentId: queued.id,
    });
    assert.equal(rollback.status, 202, JSON.stringify(rollback.body));
    const back = await world.waitFor(world.alice, rollback.body.id);
    assert.equal(back.status, 'live', back.error ?? undefined);
    assert.match((await fetchApp(done.url)).body, /hello from node-express/);

    // A platform restart: its containers stop with it, and the live image comes back at the same URL.
    await world.restart();
    assert.match((await fetchApp(done.url)).body, /hello from node-express/);
    assert.equal((await containersOf(done.app)).length, 1);

    // Deleting the app through the API removes its containers and its local images.
    assert.equal((await world.api(world.alice, 'DELETE', `/api/apps/${done.app}`)).status, 204);
    const images = () => docker.output(['images', '--quiet', `${process.env.CLOUDSMITH_TEST_REGISTRY}/${done.app}`]);
    const deadline = Date.now() + 60_000;
    while ((await containersOf(done.app)).length > 0 || (await images()).trim() !== '') {
      if (Date.now() > deadline) throw new Error('the deleted app still has containers or images');
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal((await fetchApp(done.url)).status, 404);
  });

  it('deploys a Vite SPA as static files served from the image, with SPA fallback', async () => {
    await world.addRepo('alice/spa', 'vite-spa');
    const { done } = await deploy('alice/spa');
    assert.equal(done.status, 'live', done.error ?? undefined);
    assert.match((await fetchApp(done.url)).body, /vite-spa ok/);
    const deepLink = await fetchApp(done.url, '/some/client/route');
    assert.equal(deepLink.status, 200);
    assert.match(deepLink.body, /vite-spa ok/);
  });

  it("builds a repo with its own Dockerfile, then fails a broken Dockerfile with the builder's output", async () => {
    await world.addRepo('alice/own', 'dockerfile-app');
    const { queued, done } = await deploy('alice/own');
    assert.equal(done.status, 'live', done.error ?? undefined);
    assert.match((await fetchApp(done.url)).body, /hello from dockerfile-app/);
    assert.match(await world.logText(world.alice, queued.id), /repository's own Dockerfile/);

    await world.git.commit('alice/own', {
      Dockerfile: 'ARG BASE_IMAGE=node:20-slim\nFROM ${BASE_IMAGE}\nRUN echo DOCKERFILE_ERROR_MARKER && exit 3\n',
    });
    const broken = await deploy('alice/own');
    assert.equal(broken.done.status, 'failed');
    assert.match(broken.done.error ?? '', /Docker build failed/);
    assert.match(broken.done.error ?? '', /DOCKERFILE_ERROR_MARKER/);
    assert.match(broken.done.error ?? '', /returned a non-zero code: 3/);
    assert.match(await world.logText(world.alice, broken.queued.id), /DOCKERFILE_ERROR_MARKER/);
    assert.match((await fetchApp(done.url)).body, /hello from dockerfile-app/, 'the live release keeps serving');
  });

  it('reports an app killed for exceeding its memory limit', async () => {
    await world.addRepo('alice/hog', 'dockerfile-app');
    await world.git.commit('alice/hog', {
      // Buffer.alloc zero-fills, so every page is really touched: far past the limit.
      'server.js':
        "console.log('allocating'); const keep = []; for (let i = 0; i < 40; i++) keep.push(Buffer.alloc(16 * 1024 * 1024, 1)); require('http').createServer((q, s) => s.end('still here')).listen(8080);",
    });
    const { done } = await deploy('alice/hog');
    assert.equal(done.status, 'failed');
    assert.match(done.error ?? '', new RegExp(`killed for exceeding its memory limit of ${MEMORY_MB} MB`));
    assert.deepEqual(await containersOf(done.app), [], 'the failed container is removed');
  });
});
