import assert from 'node:assert/strict';
import { fetchApp } from '../helpers/appFetch';
import { World } from '../helpers/world';
import { findGo, findPython } from '../../src/detect/toolchains';
import { COREPACK_MIRROR_ENV, deployFailed, deployLive, PYTHON_CA_ENV } from './stacks';

/** Python and Go cases need the toolchain on the host running the platform; without it they skip. */
function needs(ctx: Mocha.Context, tool: 'python' | 'go'): void {
  if (!(tool === 'python' ? findPython() : findGo())) ctx.skip();
}

/**
 * Every stack through the real platform API with the embedded local builder and process runtime:
 * Python (pip, uv, Django), Go, pnpm, yarn berry, a Procfile with a release step, a Dockerfile-only
 * repo without Docker, and an app that bans clients who poll it too often.
 */
describe('stacks: deploy live with the local builder', function () {
  this.timeout(900_000);
  let world: World;

  before(async () => {
    // No Docker engine answers there, whatever the machine runs: the Dockerfile-only case fails as it must.
    world = await World.start({
      env: {
        CLOUDSMITH_HEALTH_TIMEOUT_MS: '60000',
        CLOUDSMITH_DOCKER_HOST: 'unix:///nonexistent/cloudsmith-docker.sock',
      },
    });
  });
  after(async () => {
    await world.close();
  });

  it('Flask from requirements.txt: venv, gunicorn added and said so', async function () {
    needs(this, 'python');
    await deployLive(world, {
      fixture: 'python-flask',
      marker: /hello from python-flask/,
      log: [
        /Detected a python app/,
        /Flask app in app\.py: gunicorn app:app/,
        /does not list gunicorn; adding it/,
        /satisfies \.python-version "3\.11"/,
        // The venv is a dependency layer, run read-only in the app's sandbox through the release's symlink; embedded,
        // the built tree itself moves to the runtime's layers, and the build cache copies it back after the build.
        /^Dependency layer \.venv \(.*\): stored; its tree goes to the runtime on this disk as built/m,
        /^cache saved \(\d+\.\d MB, \d+\.\d\d s; \.venv copied in from its release's layer after the build/m,
        /^Dependency layer \.venv \(sha256 [0-9a-f]{12}\) already on disk: linked$/m,
      ],
    });
  });

  it('FastAPI in a package: uvicorn app.main:api (a commented-out Flask import decides nothing)', async function () {
    needs(this, 'python');
    await deployLive(world, {
      fixture: 'python-fastapi',
      marker: /hello from python-fastapi/,
      log: [/FastAPI app in app\/main\.py: uvicorn app\.main:api/],
    });
  });

  it('Django: gunicorn on the WSGI module, collectstatic because STATIC_ROOT is set', async function () {
    needs(this, 'python');
    const { log } = await deployLive(world, {
      fixture: 'python-django',
      marker: /hello from python-django/,
      log: [/Django \(manage\.py, mysite\/wsgi\.py\): gunicorn mysite\.wsgi:application/, /static files? copied/],
    });
    assert.doesNotMatch(log, /^collectstatic skipped/m);
  });

  it('uv: pyproject.toml + uv.lock, frozen sync into the venv', async function () {
    needs(this, 'python');
    await deployLive(world, {
      fixture: 'python-uv',
      marker: /hello from python-uv/,
      log: [/\(pyproject\.toml, uv\)/, /uv sync --frozen/],
    });
  });

  it('Poetry: [tool.poetry] + poetry.lock, poetry install of the main group into the venv', async function () {
    needs(this, 'python');
    await deployLive(world, {
      fixture: 'python-poetry',
      env: PYTHON_CA_ENV,
      marker: /hello from python-poetry/,
      log: [/\(pyproject\.toml, poetry\)/, /poetry install --only main/, /Flask app in web\.py: gunicorn web:server/],
    });
  });

  it('Go: go build of cmd/<name>, the binary runs with PORT', async function () {
    needs(this, 'go');
    await deployLive(world, {
      fixture: 'go-server',
      marker: /hello from go-server/,
      log: [/Detected a go app/, /go build -trimpath -o \.cloudsmith\/server \.\/cmd\/go-server/],
    });
  });

  it('pnpm via corepack with a frozen lockfile; engines.node checked', async () => {
    await deployLive(world, {
      fixture: 'node-pnpm',
      env: COREPACK_MIRROR_ENV,
      marker: /hello from node-pnpm \(1m\)/,
      log: [
        /pnpm \(packageManager pnpm@9\.15\.0\) via corepack, frozen lockfile/,
        /corepack pnpm install --frozen-lockfile/,
        /satisfies engines\.node/,
      ],
    });
  });

  it('yarn berry via corepack with an immutable install; .nvmrc checked', async () => {
    await deployLive(world, {
      fixture: 'node-yarn-berry',
      env: COREPACK_MIRROR_ENV,
      marker: /hello from node-yarn-berry \(1m\)/,
      log: [/yarn berry/, /corepack yarn install --immutable/, /\.nvmrc/],
    });
  });

  it('Procfile: web: is the start command, release: runs once before the swap; a failing release fails the deploy', async () => {
    const first = await deployLive(world, {
      fixture: 'procfile-release',
      marker: /hello from procfile-release \(migrated\)/,
      log: [/release step done/],
    });
    const error = await deployFailed(world, 'procfile-release', { env: { FAIL_RELEASE: '1' } }, first.done.repo);
    assert.match(error, /release/);
    // The previous release keeps serving.
    assert.match((await fetchApp(first.done.url)).body, /hello from procfile-release/);
  });

  it('a Dockerfile-only repo without a Docker engine fails saying it needs Docker', async () => {
    const error = await deployFailed(world, 'dockerfile-only');
    assert.match(error, /^this repo needs Docker: .*no Docker engine answered at unix:\/\/\/nonexistent/);
  });

  it('an app that bans clients after 40 requests is not banned by the health checks', async () => {
    const { done } = await deployLive(world, { fixture: 'rate-limited', marker: /hello from rate-limited/ });
    const again = await fetchApp(done.url);
    assert.equal(again.status, 200, again.body);
  });

  it('an unknown stack fails with what to add', async () => {
    const error = await deployFailed(world, 'unknown-stack');
    assert.match(error, /Procfile with a `web:` line, or set startCommand/);
  });
});
