import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerCli } from '../../src/adapters/docker/cli';
import { appFilter } from '../../src/adapters/docker/names';
import { DockerRuntime } from '../../src/adapters/runtime/docker/dockerRuntime';
import { UserFacingError } from '../../src/domain/errors';
import type { BuildResult } from '../../src/ports/builder';
import type { ReleaseContext } from '../../src/ports/runtime';
import { RouteTable } from '../../src/proxy/routes';
import { eventually } from '../helpers/eventually';
import { buildFiles, removeApps, requireDocker, startProxy, testBuilder, type DockerTestEnv } from './helpers';

const SERVER = `
  const http = require('node:http');
  console.log('adapter fixture up');
  const hog = [];
  http.createServer((req, res) => {
    if (req.url === '/env') return res.end(JSON.stringify({ SECRET_VALUE: process.env.SECRET_VALUE, PORT: process.env.PORT, user: process.getuid() }));
    if (req.url === '/hog') { res.end('allocating'); setTimeout(() => { for (;;) hog.push(Buffer.alloc(16 * 1024 * 1024, 1)); }, 10); return; }
    res.end('adapter fixture');
  }).listen(Number(process.env.PORT));
`;
const FILES = {
  'package.json': JSON.stringify({
    name: 'adapter-fixture',
    version: '1.0.0',
    scripts: {
      build: "node -e \"console.log(process.env.SECRET_VALUE ? 'build saw the secret' : 'no secret')\"",
      start: 'node server.js',
    },
  }),
  'server.js': SERVER,
};

function ctx(signal = new AbortController().signal): ReleaseContext & { lines: string[] } {
  const lines: string[] = [];
  return { signal, lines, log: (text) => lines.push(text) };
}

describe('Docker adapters', function () {
  this.timeout(300_000);
  let env: DockerTestEnv;
  let dir: string;
  let docker: DockerCli;
  let spyLog: string;
  let routes: RouteTable;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let runtime: DockerRuntime;
  const apps = new Set<string>();
  const secret = `s3cret-${randomUUID()}`;

  before(async function () {
    env = requireDocker(this);
    dir = await mkdtemp(join(tmpdir(), 'cloudsmith-docker-adapters-'));
    // A docker client that records its argv, to show no env value is ever on a command line.
    spyLog = join(dir, 'argv.log');
    const spy = join(dir, 'docker-spy');
    await writeFile(spy, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${spyLog}'\nexec docker "$@"\n`);
    await chmod(spy, 0o755);
    docker = new DockerCli({ host: env.host, bin: spy });
    routes = new RouteTable();
    proxy = await startProxy(routes);
    runtime = new DockerRuntime({
      docker,
      routes,
      urlFor: (app) => `http://${app}.localhost:${proxy.port}`,
      healthTimeoutMs: 20_000,
      memoryMb: 128,
      cpus: 1,
      pidsLimit: 64,
    });
  });

  after(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the hook that sets it failed
    await runtime?.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the hook that sets it failed
    await proxy?.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the hook that sets it failed
    if (env) await removeApps(new DockerCli({ host: env.host }), apps);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function build(
    app: string,
    files: Record<string, string>,
    buildEnv: Record<string, string> = {},
  ): Promise<{ result: BuildResult; log: string[] }> {
    apps.add(app);
    const log: string[] = [];
    const builder = testBuilder(env, { docker });
    const source = await mkdtemp(join(dir, 'src-'));
    for (const [name, content] of Object.entries(files)) await writeFile(join(source, name), content);
    const result = await builder.build(
      {
        deploymentId: randomUUID(),
        app,
        repo: `test/${app}`,
        commitSha: 'b'.repeat(40),
        sourceDir: source,
        cloneUrl: '',
        sealedToken: '',
        overrides: {},
        env: buildEnv,
      },
      { signal: new AbortController().signal, log: (line) => log.push(line) },
    );
    return { result, log };
  }

  it('passes env to builds and containers without putting a value in any argv, and runs as a non-root user', async () => {
    const app = `adp-env-${randomUUID().slice(0, 6)}`;
    const { result, log } = await build(app, FILES, { SECRET_VALUE: secret });
    assert.ok(
      log.some((l) => l.includes('build saw the secret')),
      'the build step sees the app env',
    );
    const history = await docker.output([
      'image',
      'history',
      '--no-trunc',
      '--format',
      '{{.CreatedBy}}',
      result.artifact.kind === 'image' ? result.artifact.image : '',
    ]);
    assert.doesNotMatch(history, new RegExp(secret), 'build args do not reach the pushed image');
    await runtime.release(
      { app, deploymentId: randomUUID(), artifact: result.artifact, plan: result.plan, env: { SECRET_VALUE: secret } },
      ctx(),
    );
    const seen = JSON.parse((await proxy.fetchApp(app, '/env')).body) as {
      SECRET_VALUE: string;
      PORT: string;
      user: number;
    };
    assert.equal(seen.SECRET_VALUE, secret);
    assert.equal(seen.PORT, '8080');
    assert.notEqual(seen.user, 0);
    assert.doesNotMatch(await readFile(spyLog, 'utf8'), new RegExp(secret));
  });

  it('reports a live app killed for exceeding its memory limit, which the engine restarts', async () => {
    const app = `adp-oom-${randomUUID().slice(0, 6)}`;
    const { result } = await build(app, FILES);
    await runtime.release(
      { app, deploymentId: randomUUID(), artifact: result.artifact, plan: result.plan, env: {} },
      ctx(),
    );
    await proxy.fetchApp(app, '/hog');
    await eventually('the OOM kill in the runtime log', async () =>
      (await runtime.logs(app)).some((l) => /killed for exceeding its memory limit of 128 MB/.test(l)),
    );
    await eventually('the restarted app to serve again', async () => {
      const answer = await proxy.fetchApp(app, '/').catch(() => undefined);
      return answer?.status === 200 && /adapter fixture/.test(answer.body);
    });
    const logs = await eventually("the restarted run's output", async () => {
      const lines = await runtime.logs(app);
      return lines.filter((l) => l === 'adapter fixture up').length >= 2 ? lines : undefined;
    });
    assert.ok(logs.includes('[cloudsmith] the app was restarted'), logs.join('\n'));
  });

  it('cancels a running build: the build container is gone', async () => {
    const app = `adp-cancel-${randomUUID().slice(0, 6)}`;
    apps.add(app);
    const before = (await docker.output(['ps', '--quiet', '--no-trunc'])).split('\n').filter(Boolean);
    const controller = new AbortController();
    const log: string[] = [];
    const builder = testBuilder(env, { docker });
    const source = await mkdtemp(join(dir, 'src-'));
    await writeFile(
      join(source, 'package.json'),
      JSON.stringify({
        name: 'slow',
        version: '1.0.0',
        scripts: { build: 'echo SLOW_STARTED && sleep 120', start: 'node -e 0' },
      }),
    );
    const pending = builder.build(
      {
        deploymentId: randomUUID(),
        app,
        repo: `test/${app}`,
        commitSha: 'c'.repeat(40),
        sourceDir: source,
        cloneUrl: '',
        sealedToken: '',
        overrides: {},
        env: {},
      },
      { signal: controller.signal, log: (line) => log.push(line) },
    );
    pending.catch(() => undefined);
    await eventually('the build step to start', async () => log.some((l) => l.includes('SLOW_STARTED')));
    controller.abort();
    await assert.rejects(pending, (err: unknown) => err instanceof UserFacingError && /cancelled/.test(err.message));
    await eventually('no container running the build', async () => {
      const running = (await docker.output(['ps', '--quiet', '--no-trunc'])).split('\n').filter(Boolean);
      return running.every((id) => before.includes(id));
    });
  });

  it('remove(app) removes its containers and its images', async () => {
    const app = `adp-rm-${randomUUID().slice(0, 6)}`;
    const first = await build(app, FILES);
    await runtime.release(
      { app, deploymentId: randomUUID(), artifact: first.result.artifact, plan: first.result.plan, env: {} },
      ctx(),
    );
    const second = await buildFiles(testBuilder(env, { docker }), app, {
      ...FILES,
      'server.js': SERVER.replace('adapter fixture up', 'second'),
    });
    await runtime.release(
      { app, deploymentId: randomUUID(), artifact: second.artifact, plan: second.plan, env: {} },
      ctx(),
    );
    assert.equal(
      (await docker.output(['ps', '--all', '--quiet', ...appFilter(app)])).split('\n').filter(Boolean).length,
      1,
    );
    assert.ok((await docker.output(['image', 'ls', '--quiet', ...appFilter(app)])).length > 0);

    await runtime.remove(app);
    assert.equal(await docker.output(['ps', '--all', '--quiet', ...appFilter(app)]), '');
    assert.equal(await docker.output(['image', 'ls', '--all', '--quiet', ...appFilter(app)]), '');
    assert.equal(await docker.output(['image', 'ls', '--quiet', `${env.registry}/${app}`]), '');
    assert.notEqual((await proxy.fetchApp(app)).status, 200);
  });
});
