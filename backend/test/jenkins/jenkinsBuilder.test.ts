import { jenkinsBuilderFromConfig } from '../../src/compose/jenkins';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeEnv } from '../../src/adapters/builder/jenkins/credentials';
import { JenkinsBuilder } from '../../src/adapters/builder/jenkins/jenkinsBuilder';
import { JENKINS_PARAMETERS } from '../../src/adapters/builder/jenkins/parameters';
import { commandLine, shellQuote } from '../../src/adapters/builder/jenkins/plan';
import { loadConfig } from '../../src/config';
import { UserFacingError } from '../../src/domain/errors';
import { buildFixture, listFiles, unpackArtifact } from '../contracts/builder.contract';
import { parseJenkinsfile } from '../helpers/jenkinsStandin';
import { jenkinsFixture, type JenkinsFixture } from './fixture';
import { alive } from '../helpers/processes';

const until = async (what: string, cond: () => boolean, timeoutMs = 60_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('JenkinsBuilder against the Jenkins stand-in', function () {
  this.timeout(120_000);
  let fx: JenkinsFixture;

  afterEach(async function () {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the hook that sets it failed
    await fx?.cleanup();
  });

  it('keeps the token out of every parameter, log line, argv and URL, and deletes its temporary credentials', async function () {
    fx = await jenkinsFixture({ callback: true });
    const secret = 'app-secret-value-42';
    const { result, logs } = await buildFixture(fx, 'print-env', { workDir: fx.dir, env: { GREETING: 'hello', API_SECRET: secret } });
    assert.equal(result.artifact.kind, 'tarball');
    const [build] = [...fx.jenkins.builds.values()];
    assert.ok(build);
    assert.equal(build.result, 'SUCCESS');

    // Parameters: exactly the declared ones, no secret among them; the token reached Jenkins only as a credential.
    assert.deepEqual(Object.keys(build.params).sort(), [...JENKINS_PARAMETERS].sort());
    for (const value of Object.values(build.params)) {
      assert.ok(!value.includes(fx.token) && !value.includes(secret), `a parameter carries a secret: ${value}`);
    }
    const created = fx.jenkins.credentialEvents.filter((e) => e.op === 'create');
    assert.deepEqual(created.map((e) => e.kind), ['usernamePassword', 'string']);
    assert.deepEqual(created.map((e) => e.id), [build.params.GIT_CREDENTIALS_ID, build.params.ENV_CREDENTIALS_ID]);
    assert.equal(fx.jenkins.credentials.size, 0, 'temporary credentials deleted after the build');
    assert.deepEqual(fx.jenkins.callbacks.map((c) => [c.result, c.deploymentId]), [['SUCCESS', build.params.DEPLOYMENT_ID]]);

    // Logs: Jenkins' own console and what reached the deployment log.
    const console = build.log.toString('utf8');
    for (const text of [console, logs.join('\n')]) {
      assert.ok(!text.includes(fx.token), 'token in a log');
      assert.ok(!text.includes(secret), 'app secret in a log');
    }
    // argv: the steps' processes and every git invocation; URLs: what the git server saw.
    assert.ok(build.gitArgv.length >= 3, 'git ran through the shim');
    for (const argv of [...build.argv, ...build.gitArgv]) assert.ok(!argv.join(' ').includes(fx.token), `token in argv ${argv.join(' ')}`);
    assert.ok(fx.git.requests.length > 0 && fx.git.requests.every((r) => r.authorized && !r.tokenInUrl));
    // The user's build sees its own env, not the token, Jenkins' variables or the build parameters.
    const line = logs.find((l) => l.startsWith('PRINT_ENV_JSON '));
    assert.ok(line, logs.join('\n'));
    const env = JSON.parse(line.slice('PRINT_ENV_JSON '.length)) as Record<string, string>;
    assert.equal(env.GREETING, 'hello');
    assert.equal(env.API_SECRET, '****', 'the secret reached the build, masked in its output');
    assert.equal(env.CI, '1');
    for (const name of ['GIT_PASSWORD', 'GIT_USERNAME', 'APP_ENV_B64', 'BUILD_URL', 'JENKINS_URL', 'GIT_CREDENTIALS_ID', 'REPO_CLONE_URL', 'GIT_CONFIG_VALUE_0']) {
      assert.equal(env[name], undefined, `${name} leaked into the build`);
    }
    assert.ok(!JSON.stringify(env).includes(fx.token));
  });

  it('sends the crumb and session cookie with every POST', async function () {
    fx = await jenkinsFixture();
    await buildFixture(fx, 'static-site', { workDir: fx.dir });
    const posts = fx.jenkins.requests.filter((r) => r.method !== 'GET' && !r.path.startsWith('/__'));
    assert.ok(posts.length >= 2);
    assert.ok(posts.every((r) => r.crumb && r.status < 400), JSON.stringify(posts.map((r) => [r.method, r.path, r.status])));
    assert.equal(fx.jenkins.requests.filter((r) => r.path === '/crumbIssuer/api/json').length, 1, 'one crumb per session');
  });

  it('fetches a fresh crumb when Jenkins no longer knows the session', async function () {
    fx = await jenkinsFixture();
    await buildFixture(fx, 'static-site', { workDir: fx.dir });
    fx.jenkins.expireSessions();
    const { result } = await buildFixture(fx, 'static-site', { workDir: fx.dir });
    assert.equal(result.artifact.kind, 'tarball');
    assert.equal(fx.jenkins.requests.filter((r) => r.path === '/crumbIssuer/api/json').length, 2);
    assert.equal(fx.jenkins.requests.filter((r) => r.status === 403).length, 1, 'one POST refused with the stale crumb, then retried');
  });

  it('streams the console log incrementally while the build runs', async function () {
    fx = await jenkinsFixture();
    const seen: { building: boolean; secondInJenkins: boolean }[] = [];
    const logs: string[] = [];
    const origin = logs.push.bind(logs);
    logs.push = (...items: string[]) => {
      for (const item of items) {
        if (item === 'STREAM_FIRST') {
          const build = [...fx.jenkins.builds.values()].at(0);
          seen.push({ building: build?.building ?? false, secondInJenkins: /^STREAM_SECOND$/m.test(build?.log.toString('utf8') ?? '') });
        }
      }
      return origin(...items);
    };
    await buildFixture(fx, 'static-site', { workDir: fx.dir, logs, overrides: { buildCommand: 'echo STREAM_FIRST; sleep 3; echo STREAM_SECOND' } });
    assert.deepEqual(seen, [{ building: true, secondInJenkins: false }], 'the first line arrived before the build wrote the second');
    assert.ok(logs.includes('STREAM_SECOND'));
    assert.ok(logs.includes('── build ──'), 'stage headers, not pipeline bookkeeping');
    assert.ok(!logs.some((l) => l.startsWith('[Pipeline]')));
    const starts = fx.jenkins.requests.filter((r) => r.path.endsWith('/logText/progressiveText')).map((r) => Number(new URLSearchParams(r.query).get('start')));
    assert.ok(starts.length >= 3, `polled ${starts.length} times`);
    assert.equal(starts[0], 0);
    assert.ok(starts.every((s, i) => i === 0 || s >= starts[i - 1]), `offsets only grow: ${starts.join(',')}`);
    assert.equal(new Set(logs.filter((l) => l === 'STREAM_FIRST')).size, 1);
    assert.equal(logs.filter((l) => l === 'STREAM_FIRST').length, 1, 'no line twice');
  });

  it('maps a build aborted in Jenkins to a clear error and runs the aborted notification', async function () {
    fx = await jenkinsFixture({ callback: true });
    const logs: string[] = [];
    const build = buildFixture(fx, 'slow-build', { workDir: fx.dir, logs });
    build.catch(() => undefined);
    await until('the slow build to start', () => logs.some((l) => /PID \d+/.test(l)));
    fx.jenkins.abortBuild(1);
    await assert.rejects(build, (err: unknown) => err instanceof UserFacingError && err.message === 'the Jenkins build #1 was aborted');
    assert.deepEqual(fx.jenkins.callbacks.map((c) => c.result), ['ABORTED']);
    assert.equal(fx.jenkins.credentials.size, 0);
  });

  it('refuses an UNSTABLE build', async function () {
    fx = await jenkinsFixture();
    fx.jenkins.markUnstable = true;
    await assert.rejects(buildFixture(fx, 'static-site', { workDir: fx.dir }), /the Jenkins build #1 finished UNSTABLE/);
  });

  it("reports a build cancelled in Jenkins' queue", async function () {
    fx = await jenkinsFixture();
    fx.jenkins.holdQueue = true;
    const logs: string[] = [];
    const build = buildFixture(fx, 'static-site', { workDir: fx.dir, logs });
    build.catch(() => undefined);
    await until('the queue item', () => logs.some((l) => l.startsWith('Waiting in the Jenkins queue: Waiting for next available executor')));
    fx.jenkins.cancelQueueItem(1);
    await assert.rejects(build, (err: unknown) => err instanceof UserFacingError && err.message === "the build was cancelled in Jenkins' queue");
    assert.equal(fx.jenkins.builds.size, 0);
    assert.equal(fx.jenkins.credentials.size, 0);
  });

  it('cancel while queued cancels the queue item', async function () {
    fx = await jenkinsFixture();
    fx.jenkins.holdQueue = true;
    const controller = new AbortController();
    const logs: string[] = [];
    const build = buildFixture(fx, 'static-site', { workDir: fx.dir, logs, signal: controller.signal });
    build.catch(() => undefined);
    await until('the queue item', () => logs.some((l) => l.startsWith('Queued in Jenkins')));
    controller.abort();
    await assert.rejects(build, /cancel/);
    assert.ok(fx.jenkins.requests.some((r) => r.method === 'POST' && r.path === '/queue/cancelItem' && r.query === '?id=1'));
    assert.equal(fx.jenkins.builds.size, 0, 'never started');
  });

  it('cancel while running stops the build and its process tree', async function () {
    fx = await jenkinsFixture();
    const controller = new AbortController();
    const logs: string[] = [];
    const build = buildFixture(fx, 'slow-build', { workDir: fx.dir, logs, signal: controller.signal });
    build.catch(() => undefined);
    const pids = () => logs.flatMap((l) => /^PID (\d+)$/.exec(l)?.slice(1) ?? []).map(Number);
    await until('three processes', () => pids().length >= 3);
    controller.abort();
    await assert.rejects(build, /the build was cancelled \(Jenkins build #1 stopped\)/);
    assert.ok(fx.jenkins.requests.some((r) => r.method === 'POST' && r.path === `/job/${fx.jenkins.job}/1/stop`));
    assert.equal(fx.jenkins.builds.get(1)?.result, 'ABORTED');
    await until('the process tree to exit', () => !pids().some(alive), 20_000);
  });

  it('stops a build that outlives the build timeout', async function () {
    fx = await jenkinsFixture({ builder: { timeoutMs: 3000 } });
    await assert.rejects(buildFixture(fx, 'slow-build', { workDir: fx.dir }), (err: unknown) => err instanceof UserFacingError && err.message === 'the Jenkins build timed out after 3 s');
    assert.equal(fx.jenkins.builds.get(1)?.result, 'ABORTED');
  });

  it('names the user when Jenkins refuses the API token, without starting anything', async function () {
    fx = await jenkinsFixture({ builder: { apiToken: 'wrong-token' } });
    await assert.rejects(buildFixture(fx, 'static-site', { workDir: fx.dir }), (err: unknown) => {
      assert.ok(err instanceof UserFacingError);
      assert.match(err.message, /^Jenkins refused the credentials for user cloudsmith/);
      return true;
    });
    assert.equal(fx.jenkins.queue.size, 0);
  });

  it('retries 5xx answers with backoff, then gives up with the status', async function () {
    fx = await jenkinsFixture();
    fx.jenkins.failNext(2, `/job/${fx.jenkins.job}/buildWithParameters`);
    fx.jenkins.failNext(2, '/queue/item/');
    const { result } = await buildFixture(fx, 'static-site', { workDir: fx.dir });
    assert.equal(result.artifact.kind, 'tarball');
    assert.equal(fx.jenkins.requests.filter((r) => r.status === 503).length, 4);
    assert.equal(fx.jenkins.queue.size, 1, 'one build despite the retries');

    fx.jenkins.failNext(100, '/crumbIssuer');
    const fresh = new JenkinsBuilder({ url: fx.jenkins.url, user: fx.jenkins.user, apiToken: fx.jenkins.apiToken, job: fx.jenkins.job, pollMs: 50, artifacts: fx.artifacts, openToken: (s) => fx.sealer.open(s), attempts: 3, backoffMs: 10 });
    await assert.rejects(buildFixture({ ...fx, builder: fresh }, 'static-site', { workDir: fx.dir }), /Jenkins answered 503 to GET crumbIssuer\/api\/json \(after 3 attempts\)/);
  });

  it('says when the job does not exist', async function () {
    fx = await jenkinsFixture({ builder: { job: 'no-such-job' } });
    await assert.rejects(buildFixture(fx, 'static-site', { workDir: fx.dir }), /Jenkins has no job "no-such-job"/);
    assert.equal(fx.jenkins.credentials.size, 0, 'credentials removed on failure too');
  });

  it('with ARTIFACT_BUCKET the pipeline uploads (aws s3 cp) and the adapter verifies the stored artifact', async function () {
    fx = await jenkinsFixture({ builder: { artifactBucket: 'cloudsmith-artifacts' } });
    const { result } = await buildFixture(fx, 'vite-spa', { workDir: fx.dir });
    const build = fx.jenkins.builds.get(1);
    assert.ok(build, 'Jenkins ran build 1');
    assert.equal(build.params.ARTIFACT_BUCKET, 'cloudsmith-artifacts');
    assert.equal(build.archived.size, 0, 'nothing archived in Jenkins');
    assert.deepEqual(result.plan.start, ['node', '.cloudsmith/static-server.js', 'site', '--spa']);
    const files = await listFiles(await unpackArtifact(fx.artifacts, result, fx.dir));
    assert.ok(files.includes('site/index.html') && files.includes('.cloudsmith/static-server.js'), files.join(', '));
    assert.ok(!files.some((f) => f.includes('node_modules')));
  });

  it("decides after the build, from its output, with the providers' own rules (Next.js standalone: copies, workdir)", async function () {
    fx = await jenkinsFixture({ builder: { artifactBucket: 'cloudsmith-artifacts' } });
    // Its build writes what `output: "standalone"` writes (no install: its cloudsmith.json says `true`).
    const { result, logs } = await buildFixture(fx, 'next-output-stub', { workDir: fx.dir });
    const build = fx.jenkins.builds.get(1);
    assert.ok(build?.params.RUN_RULES, 'the rules went to the pipeline');
    assert.match(logs.join('\n'), /\[cloudsmith\] run-rule=0 \(\+\.next\/standalone\/server\.js \+public\)/);
    assert.match(logs.join('\n'), /Decided from the build output: sh -c HOSTNAME=.* exec node server\.js/);
    assert.equal(result.plan.workdir, '.next/standalone');
    const files = await listFiles(await unpackArtifact(fx.artifacts, result, fx.dir));
    for (const f of ['.next/standalone/server.js', '.next/standalone/public/robots.txt', '.next/standalone/.next/static/chunks/main.js'])
      assert.ok(files.includes(f), `${f} in ${files.join(', ')}`);
  });

  it('builds a monorepo app from its rootDir', async function () {
    fx = await jenkinsFixture();
    const { result } = await buildFixture(fx, 'monorepo', { workDir: fx.dir, overrides: { rootDir: 'apps/web' } });
    assert.equal(result.plan.kind, 'node');
    assert.equal(fx.jenkins.builds.get(1)?.params.ROOT_DIR, 'apps/web');
    const files = await listFiles(await unpackArtifact(fx.artifacts, result, fx.dir));
    assert.deepEqual(files.sort(), ['package.json', 'server.js']);
  });
});

describe('Jenkins adapter pieces', function () {
  it('quotes argv for the pipeline shell', function () {
    assert.equal(commandLine({ argv: ['npm', 'ci', '--include=dev'] }), 'npm ci --include=dev');
    assert.equal(shellQuote("it's; rm -rf /"), `'it'\\''s; rm -rf /'`);
    assert.equal(commandLine({ shell: 'npm run build && echo done' }), 'npm run build && echo done');
    assert.equal(commandLine(undefined), '');
  });

  it('encodes the app env as NAME=base64 pairs and refuses bad names', function () {
    assert.equal(encodeEnv({ A: 'x y', B_2: '' }), `A=${Buffer.from('x y').toString('base64')} B_2=`);
    assert.throws(() => encodeEnv({ 'BAD-NAME': '1' }), UserFacingError);
  });

  it('needs JENKINS_URL, JENKINS_USER and JENKINS_API_TOKEN when selected', function () {
    const config = loadConfig({ CLOUDSMITH_BUILDER: 'jenkins' });
    const deps = { artifacts: {} as never, openToken: (s: string) => s, cacheSalt: Buffer.alloc(32) };
    assert.throws(() => jenkinsBuilderFromConfig(config, deps), /JENKINS_URL, JENKINS_USER and JENKINS_API_TOKEN/);
    const ok = jenkinsBuilderFromConfig(loadConfig({ JENKINS_URL: 'http://127.0.0.1:1', JENKINS_USER: 'u', JENKINS_API_TOKEN: 't' }), deps);
    assert.equal(ok.name, 'jenkins');
  });

  it('the stand-in reads every stage of the Jenkinsfile, and the parameters match the adapter', async function () {
    const spec = parseJenkinsfile();
    assert.deepEqual(spec.stages.map((s) => s.name), [
      'checkout',
      'detect',
      'cache-restore',
      'install',
      'build',
      'package',
      'upload',
      'cache-save',
      'notify',
    ]);
    assert.deepEqual(spec.stages.filter((s) => s.bindsGit).map((s) => s.name), ['checkout']);
    assert.deepEqual(spec.stages.filter((s) => s.bindsAppEnv).map((s) => s.name), ['install', 'build']);
    assert.ok(spec.post.failure.length === 1 && spec.post.aborted.length === 1 && spec.post.cleanup);
    const source = await readFile(join(__dirname, '..', '..', '..', 'jenkins', 'Jenkinsfile'), 'utf8');
    const declared = [...source.matchAll(/string\(name: '([A-Z_]+)'/g)].map((m) => m[1]);
    assert.deepEqual(declared, [...JENKINS_PARAMETERS]);
  });
});
