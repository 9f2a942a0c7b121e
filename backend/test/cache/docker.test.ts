import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerCli } from '../../src/adapters/docker/cli';
import { buildFiles, removeApps, requireDocker, testBuilder, type DockerTestEnv } from '../docker/helpers';
import { FIXTURES } from '../helpers/world';

const fixture = (name: string) => readFileSync(join(FIXTURES, 'node-express', name), 'utf8');

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
      'package.json': fixture('package.json'),
      'package-lock.json': fixture('package-lock.json'),
      'server.js': fixture('server.js'),
    };
    const first: string[] = [];
    await buildFiles(builder, app, files, first);
    assert.doesNotMatch(installStep(first).next, /Using cache/);

    const again: string[] = [];
    await buildFiles(builder, app, { ...files, 'server.js': `${files['server.js']}\n// changed\n` }, again);
    assert.match(installStep(again).next, /Using cache/);
  });
});
