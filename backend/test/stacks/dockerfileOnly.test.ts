import assert from 'node:assert/strict';
import { DockerCli } from '../../src/adapters/docker/cli';
import { appFilter } from '../../src/adapters/docker/names';
import { removeApps, requireDocker } from '../docker/helpers';
import { fetchApp } from '../helpers/appFetch';
import { World } from '../helpers/world';
import { deployLive, type DeploymentView } from './stacks';

/**
 * The embedded default (local builder, process runtime) with a Docker engine it can reach: a repo with only a
 * Dockerfile is built by the Docker builder and runs as a container behind the same proxy; when the repo
 * gains a Procfile its next release runs as a process and the container goes.
 */
describe('stacks: a Dockerfile-only repo in the embedded platform with a Docker engine', function () {
  this.timeout(600_000);
  let world: World | undefined;
  let docker: DockerCli | undefined;
  const apps = new Set<string>();

  before(async function () {
    const env = requireDocker(this);
    docker = new DockerCli({ host: env.host });
    // Only the engine and the base image (the fixture's Dockerfile takes BASE_IMAGE): builder and runtime stay the defaults.
    world = await World.start({
      env: {
        CLOUDSMITH_DOCKER_HOST: env.host,
        CLOUDSMITH_BASE_IMAGE: env.baseImage,
        CLOUDSMITH_HEALTH_TIMEOUT_MS: '60000',
      },
    });
  });
  after(async () => {
    await world?.close();
    if (docker) await removeApps(docker, apps);
  });

  async function containersOf(app: string): Promise<string[]> {
    assert.ok(docker);
    return (await docker.output(['ps', '--quiet', ...appFilter(app)])).split('\n').filter(Boolean);
  }

  it('builds the Dockerfile, runs the image as a container, then runs the repo as a process once it has a Procfile', async () => {
    assert.ok(world);
    const { done, log } = await deployLive(world, {
      fixture: 'dockerfile-only',
      marker: /hello from dockerfile-only/,
      log: [
        /Detected a dockerfile app in the repository root: only a Dockerfile/,
        /Building the repository's Dockerfile with the Docker engine/,
        /stays on the engine that built it/,
        /runs as a container on the Docker engine/,
      ],
    });
    apps.add(done.app);
    assert.doesNotMatch(log, /Pushed /);
    assert.equal((await containersOf(done.app)).length, 1);

    await world.git.commit(done.repo, { Procfile: 'web: node server.js\n' }, { message: 'Run without Docker' });
    const queued = (await world.deploy(world.alice, { repo: done.repo })) as DeploymentView;
    const next = (await world.waitFor(world.alice, queued.id, undefined, 300_000)) as DeploymentView;
    const nextLog = await world.logText(world.alice, next.id);
    assert.equal(next.status, 'live', `${next.error ?? ''}\n${nextLog}`);
    assert.match(nextLog, /Stopped the previous release on the Docker runtime/);
    assert.match((await fetchApp(done.url)).body, /hello from dockerfile-only/);
    assert.deepEqual(await containersOf(done.app), []);
  });
});
