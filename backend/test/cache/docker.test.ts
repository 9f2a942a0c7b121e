import assert from 'node:assert/strict';
import { DockerCli } from '../../src/adapters/docker/cli';
import { buildFiles, removeApps, requireDocker, testBuilder, type DockerTestEnv } from '../docker/helpers';

/** One small dependency: an install step to cache, cheap to run once. */
const PACKAGE = {
  name: 'cache-layers',
  version: '1.0.0',
  private: true,
  scripts: { start: 'node server.js' },
  dependencies: { ms: '2.1.3' },
};
const LOCK = {
  name: 'cache-layers',
  version: '1.0.0',
  lockfileVersion: 3,
  requires: true,
  packages: {
    '': { name: 'cache-layers', version: '1.0.0', dependencies: { ms: '2.1.3' } },
    'node_modules/ms': {
      version: '2.1.3',
      integrity: 'sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==',
      license: 'MIT',
    },
  },
};
const SERVER = `require('node:http').createServer((_q, r) => r.end(require('ms')('1m') + '')).listen(Number(process.env.PORT));`;

/** The step after which the engine said whether it reused its layer (classic builder: "Step n/m : RUN ..."). */
function installStep(log: string[]): { step: string; next: string } {
  const i = log.findIndex((l) => /^Step \d+\/\d+ : RUN .*"npm","ci"/.test(l));
  assert.ok(i >= 0, `no npm ci step in:\n${log.join('\n')}`);
  return { step: log[i], next: log.slice(i + 1, i + 3).join('\n') };
}

/**
 * The Docker builder's cache is the engine's layer cache: the generated Dockerfile copies the manifests and
 * installs before it copies the source, so a code change with the same lockfile reuses the install layer.
 */
describe('build cache: the Docker builder reuses its dependency layer', function () {
  this.timeout(600_000);
  let env: DockerTestEnv;
  const app = `cache-layers-${Date.now().toString(36)}`;

  before(function () {
    env = requireDocker(this);
  });
  after(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when requireDocker skipped
    if (env) await removeApps(new DockerCli({ host: env.host }), [app]);
  });

  it('a redeploy after a code change reuses the npm ci layer', async () => {
    const builder = testBuilder(env);
    const files = {
      'package.json': JSON.stringify(PACKAGE),
      'package-lock.json': JSON.stringify(LOCK),
      'server.js': SERVER,
    };
    const first: string[] = [];
    await buildFiles(builder, app, files, first);
    assert.doesNotMatch(installStep(first).next, /Using cache/);

    const again: string[] = [];
    await buildFiles(builder, app, { ...files, 'server.js': `${files['server.js']}\n// changed\n` }, again);
    assert.match(installStep(again).next, /Using cache/);
  });
});
