import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DockerBuilder } from '../../src/adapters/builder/docker/dockerBuilder';
import { DockerCli } from '../../src/adapters/docker/cli';
import {
  generateBuildStage,
  generateDockerfile,
  type DockerfileInput,
} from '../../src/adapters/builder/docker/dockerfile';
import { imageName } from '../../src/adapters/docker/names';
import type { BuildPlan } from '../../src/detect/plan';
import { UserFacingError } from '../../src/domain/errors';
import type { BuildJob } from '../../src/ports/builder';

// The generated Dockerfile is plain text: these run without an engine.
function input(plan: Partial<BuildPlan>, extra: Partial<DockerfileInput> = {}): DockerfileInput {
  return {
    plan: { kind: 'node', provider: 'node', rootDir: '.', healthPath: '/', reason: 'test', ...plan },
    baseImage: 'node:20-slim',
    app: 'web-alice',
    commitSha: 'a'.repeat(40),
    buildArgNames: [],
    cacheInstall: true,
    ...extra,
  };
}

describe('Docker builder: generated Dockerfile', () => {
  it('builds a node server in one stage and runs only its directory as the node user in another', () => {
    const { text, runPlan } = generateDockerfile(
      input(
        {
          install: { argv: ['npm', 'ci', '--include=dev'] },
          build: { argv: ['npm', 'run', 'build'] },
          start: { argv: ['npm', 'start'] },
        },
        { buildArgNames: ['API_URL'] },
      ),
    );
    const stages = text.split(/^FROM /m).slice(1);
    assert.equal(stages.length, 2);
    assert.match(stages[0], /^node:20-slim AS build/);
    assert.match(stages[0], /^ARG API_URL$/m);
    // Manifests before the source, so the install layer is cached across commits.
    assert.ok(stages[0].indexOf('package.json') < stages[0].indexOf('COPY [".","/src/"]'));
    assert.match(stages[0], /^RUN \["npm","ci","--include=dev"\]$/m);
    assert.doesNotMatch(stages[1], /ARG/, 'build args stay in the build stage');
    assert.match(stages[1], /^COPY --from=build --chown=node:node \["\/src\/","\/app\/"\]$/m);
    assert.match(stages[1], /^USER node$/m);
    assert.match(stages[1], /^EXPOSE 8080$/m);
    assert.match(stages[1], /^CMD \["npm","start"\]$/m);
    assert.deepEqual(runPlan, { kind: 'node', start: ['npm', 'start'], workdir: '/app', healthPath: '/', port: 8080 });
  });

  it('serves an SPA from its output directory with the static server and SPA fallback', () => {
    const { text, runPlan } = generateDockerfile(
      input({
        kind: 'spa',
        rootDir: 'apps/web',
        install: { argv: ['npm', 'ci', '--include=dev'] },
        build: { argv: ['npm', 'run', 'build'] },
      }),
    );
    assert.match(text, /^WORKDIR \/src\/apps\/web$/m);
    assert.match(
      text,
      /for d in dist build out/,
      'the output directory is found after the build, as the local builder does',
    );
    assert.match(text, /^COPY \[".cloudsmith\/static-server.js","\/app\/.cloudsmith\/static-server.js"\]$/m);
    assert.deepEqual(runPlan.start, ['node', '/app/.cloudsmith/static-server.js', '/app/site', '--spa']);
    assert.equal(runPlan.kind, 'static');
    assert.equal(runPlan.spaFallback, true);
  });

  it('runs what the build stage produced (finalized plan): the build stage text is unchanged, so it comes from cache', () => {
    const detected: Partial<BuildPlan> = {
      kind: 'next',
      framework: 'next',
      install: { argv: ['npm', 'ci', '--include=dev'] },
      build: { argv: ['npm', 'run', 'build'] },
      start: { argv: ['npm', 'start'] },
      release: { shell: 'node migrate.js' },
    };
    const stageOnly = generateBuildStage(input(detected));
    const standalone = generateDockerfile(
      input(detected, {
        finalized: {
          ...input(detected).plan,
          workdir: '.next/standalone',
          start: { shell: 'exec node server.js' },
          copies: [['.next/static', '.next/standalone/.next/static']],
        },
      }),
    );
    assert.ok(standalone.text.startsWith(stageOnly.trimEnd()), 'the build stage is the same text');
    assert.match(
      standalone.text,
      /^RUN \["\/bin\/sh","-c","mkdir -p '.next\/standalone\/.next\/static' && cp -a '.next\/static'\/. '.next\/standalone\/.next\/static'\/"\]$/m,
    );
    assert.match(standalone.text, /^WORKDIR \/app\/.next\/standalone$/m);
    assert.equal(standalone.runPlan.workdir, '/app/.next/standalone');
    assert.deepEqual(standalone.runPlan.release, ['/bin/sh', '-c', 'node migrate.js']);
    // A release step runs in the app's root with its tools: the whole root dir is in the image.
    assert.match(standalone.text, /^COPY --from=build --chown=node:node \["\/src\/","\/app\/"\]$/m);

    // Without one, only the self-contained output is, as in the local builder's artifact.
    const { release: _release, ...unreleased } = detected;
    const alone = generateDockerfile(
      input(unreleased, {
        finalized: { ...input(unreleased).plan, workdir: '.next/standalone', ships: ['.next/standalone'] },
      }),
    );
    const copied = alone.text.split('\n').filter((l) => l.startsWith('COPY --from=build'));
    assert.deepEqual(copied, [
      'COPY --from=build --chown=node:node ["/src/.next/standalone/","/app/.next/standalone/"]',
    ]);
    assert.equal(alone.runPlan.workdir, '/app/.next/standalone');

    const exported = generateDockerfile(
      input(detected, { finalized: { ...input(detected).plan, kind: 'spa', outputDir: 'out', start: undefined } }),
    );
    assert.match(exported.text, /cp -a 'out'\/. \/cloudsmith-site\//);
    assert.equal(exported.runPlan.kind, 'static');
  });

  it("runs the user's shell commands through exec form, so no line of theirs becomes a Dockerfile instruction", () => {
    const { text } = generateDockerfile(
      input(
        { install: { shell: 'npm install\nUSER root' }, start: { shell: 'node server.js --flag "x"' } },
        { cacheInstall: false },
      ),
    );
    assert.match(text, /^RUN \["\/bin\/sh","-c","npm install\\nUSER root"\]$/m);
    assert.doesNotMatch(text, /^USER root$/m);
    assert.match(text, /^CMD \["\/bin\/sh","-c","node server.js --flag \\"x\\""\]$/m);
  });

  it('refuses paths that would break out of an instruction', () => {
    assert.throws(
      () => generateDockerfile(input({ rootDir: 'a\nRUN evil', start: { argv: ['node'] } })),
      UserFacingError,
    );
    assert.throws(() => generateDockerfile(input({ kind: 'spa', outputDir: 'dist"; rm -rf /' })), UserFacingError);
  });

  it('names images <registry>/<app>:<commit> and refuses names that are not one reference', () => {
    assert.equal(
      imageName('127.0.0.1:5000', 'web-alice', 'a'.repeat(40)),
      `127.0.0.1:5000/web-alice:${'a'.repeat(40)}`,
    );
    assert.throws(() => imageName('127.0.0.1:5000', 'Web --privileged', 'abc'), UserFacingError);
    assert.throws(() => imageName('127.0.0.1:5000', 'web', '-x'), UserFacingError);
  });
});

describe("Docker builder: choosing the repo's Dockerfile", () => {
  // These fail before any engine call, so they run without one.
  const builder = (mode: 'auto' | 'always' | 'never') =>
    new DockerBuilder({
      docker: new DockerCli({ host: 'unix:///nonexistent/docker.sock' }),
      registry: '127.0.0.1:5000',
      baseImage: 'node:20-slim',
      useRepoDockerfile: mode,
      limits: { timeoutMs: 10_000, maxOutputBytes: 1024 * 1024, maxMemoryMb: 512 },
    });
  const job = (fixture: string, overrides: BuildJob['overrides'] = {}): BuildJob => ({
    deploymentId: 'd1',
    app: 'web-alice',
    repo: 'alice/web',
    commitSha: 'a'.repeat(40),
    sourceDir: join(__dirname, '..', 'fixtures', fixture),
    cloneUrl: '',
    sealedToken: '',
    overrides,
    env: {},
  });
  const ctx = { signal: new AbortController().signal, log: () => undefined };

  it('refuses "dockerfile": true (or the always setting) when the repo has no Dockerfile', async () => {
    await assert.rejects(
      builder('auto').build(job('static-site', { dockerfile: true }), ctx),
      /no Dockerfile in the repository root/,
    );
    await assert.rejects(builder('always').build(job('static-site'), ctx), /no Dockerfile in the repository root/);
  });

  it('refuses a rootDir outside the repository', async () => {
    await assert.rejects(builder('auto').build(job('dockerfile-app', { rootDir: '../..' }), ctx), UserFacingError);
  });
});
