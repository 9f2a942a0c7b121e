import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { DockerCli } from '../../src/adapters/docker/cli';
import { removeApps, requireDocker } from '../docker/helpers';
import { fetchApp } from '../helpers/appFetch';
import { World } from '../helpers/world';
import { COREPACK_MIRROR_ENV, deployFailed, deployLive } from './stacks';

/**
 * The same detection through the Docker builder (generated Dockerfiles on Python and Go toolchain images
 * made from the host's, see scripts/stack-images.sh) and the Docker runtime.
 */
describe('stacks: Python, Go, Node (pnpm), a framework decided from its output and a Procfile release with the Docker builder and runtime', function () {
  this.timeout(900_000);
  let world: World | undefined;
  let docker: DockerCli | undefined;
  const apps = new Set<string>();

  before(async function () {
    const env = requireDocker(this);
    docker = new DockerCli({ host: env.host });
    // Idempotent: kept when the host's toolchains have not changed.
    const out = execFileSync('bash', [join(__dirname, '..', '..', '..', 'scripts', 'stack-images.sh')], {
      encoding: 'utf8',
      env: { ...process.env, DOCKER_HOST: env.host, CLOUDSMITH_TEST_BASE_IMAGE: env.baseImage },
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 600_000,
    });
    images = Object.fromEntries(
      out
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split('=') as [string, string]),
    );
    world = await World.start({
      env: {
        CLOUDSMITH_BUILDER: 'docker',
        CLOUDSMITH_RUNTIME: 'docker',
        CLOUDSMITH_DOCKER_HOST: env.host,
        CLOUDSMITH_REGISTRY: env.registry,
        CLOUDSMITH_BASE_IMAGE: env.baseImage,
        CLOUDSMITH_PYTHON_IMAGE: images.CLOUDSMITH_PYTHON_IMAGE ?? 'python:3.12-slim',
        CLOUDSMITH_GO_IMAGE: images.CLOUDSMITH_GO_IMAGE ?? 'golang:1.23',
        CLOUDSMITH_HEALTH_TIMEOUT_MS: '60000',
      },
    });
  });
  after(async () => {
    await world?.close();
    if (docker) await removeApps(docker, apps);
  });

  let images: Partial<Record<string, string>> = {};
  for (const [fixture, marker, log, image] of [
    ['python-flask', /hello from python-flask/, /gunicorn app:app/, 'CLOUDSMITH_PYTHON_IMAGE'],
    ['go-server', /hello from go-server/, /go build -trimpath/, 'CLOUDSMITH_GO_IMAGE'],
    ['node-pnpm', /hello from node-pnpm/, /corepack pnpm install --frozen-lockfile/, undefined],
  ] as const) {
    it(`${fixture}: a generated Dockerfile, an image, a container serving its marker`, async function () {
      // The host lacks this toolchain, so no image could be made from it (stack-images.sh said so).
      if (image && !images[image]) this.skip();
      assert.ok(world);
      const env = fixture === 'node-pnpm' ? COREPACK_MIRROR_ENV : undefined;
      const { done } = await deployLive(world, { fixture, marker, log: [log, /Pushed /], ...(env ? { env } : {}) });
      apps.add(done.app);
      // The app's own directory is writable by the app's user (a SQLite file beside the code).
      if (fixture === 'python-flask') assert.equal((await fetchApp(done.url, '/note')).body, 'kept');
    });
  }

  it('a framework app: the build stage is built and listed first, and runs as its output says (Next.js standalone)', async () => {
    assert.ok(world);
    // The stub's build writes what `output: "standalone"` writes, without installing Next (no packages to fetch).
    const { done } = await deployLive(world, {
      fixture: 'next-output-stub',
      marker: /hello from next-output-stub/,
      log: [
        /Building the build stage first/,
        /Decided from the build output: Next\.js build produced \.next\/standalone\/server\.js/,
      ],
    });
    apps.add(done.app);
    // public/ was copied beside the standalone server, as Next's docs require.
    assert.match((await fetchApp(done.url, '/robots.txt')).body, /next-output-stub public file/);
  });

  it('Procfile release: runs once in a one-off container before the swap; a failing one fails the deploy', async () => {
    assert.ok(world);
    // Files the release step writes stay in its own container (as on Heroku): the web process reports "not migrated".
    const first = await deployLive(world, {
      fixture: 'procfile-release',
      marker: /hello from procfile-release/,
      log: [/Running the release step in a one-off container: node release\.js/, /release step done/],
    });
    apps.add(first.done.app);
    const error = await deployFailed(world, 'procfile-release', { env: { FAIL_RELEASE: '1' } }, first.done.repo);
    assert.match(error, /^the release step failed \(exited with code 3\); the previous release keeps serving/);
    assert.match((await fetchApp(first.done.url)).body, /hello from procfile-release/);
  });
});
