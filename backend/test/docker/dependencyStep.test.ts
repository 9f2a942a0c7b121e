import assert from 'node:assert/strict';
import { StepWatch, whyNotReused, type DependencyStep } from '../../src/adapters/builder/docker/dependencyStep';
import { generateDockerfile } from '../../src/adapters/builder/docker/dockerfile';
import { parseDiskSize } from '../../src/adapters/docker/engineCache';
import type { BuildPlan } from '../../src/detect/plan';

const STEP: DependencyStep = {
  instruction: 'RUN ["npm","ci"]',
  command: { argv: ['npm', 'ci'] },
  files: ['package.json', 'package-lock.json'],
  beforeSource: true,
};

describe('Docker builder: the dependency step in the engine output', () => {
  it("reads the classic builder's and BuildKit's verdicts on the step, and nothing from other steps", () => {
    const classic = (next: string) => {
      const watch = new StepWatch(STEP.instruction);
      for (const line of [
        'Step 6/9 : RUN ["npm","run","build"]',
        ' ---> Using cache',
        'Step 7/9 : RUN ["npm","ci"]',
        next,
      ])
        watch.feed(line);
      return watch.verdict;
    };
    assert.equal(classic(' ---> Using cache'), 'reused');
    assert.equal(classic(' ---> Running in 0123abcd'), 'ran');

    const buildKit = (lines: string[]) => {
      const watch = new StepWatch(STEP.instruction);
      for (const line of ['#7 [build 3/5] RUN ["npm","ci"]', ...lines]) watch.feed(line);
      return watch.verdict;
    };
    assert.equal(buildKit(['#6 DONE 0.1s', '#7 CACHED']), 'reused');
    assert.equal(buildKit(['#7 [build 3/5] RUN ["npm","ci"]', '#7 0.512 added 1 package']), 'ran');
    assert.equal(buildKit(['#8 CACHED']), undefined);
  });

  it('says which manifest changed, or that the engine lost the layer', () => {
    const before = 'package.json=aaa,package-lock.json=bbb,step=ccc';
    assert.equal(whyNotReused(undefined, before, STEP), 'no earlier image of this app on the engine');
    assert.equal(
      whyNotReused(before, 'package.json=aaa,package-lock.json=ddd,step=ccc', STEP),
      'package-lock.json changed',
    );
    assert.equal(
      whyNotReused(before, 'package.json=aaa,package-lock.json=bbb,step=eee', STEP),
      'the install command or its base image changed',
    );
    assert.match(whyNotReused(before, before, STEP), /no longer has the dependency layer/);
    assert.match(whyNotReused(before, before, { ...STEP, beforeSource: false }), /reads the whole source/);
  });

  it("reads docker's human sizes", () => {
    assert.equal(parseDiskSize('124.8MB'), 124_800_000);
    assert.equal(parseDiskSize('26.49kB'), 26_490);
    assert.equal(parseDiskSize('0B'), 0);
    assert.equal(parseDiskSize('1.5GB'), 1_500_000_000);
    assert.equal(parseDiskSize('n/a'), 0);
  });

  it("BuildKit Dockerfiles give install and build steps the app's own cache mount; classic ones none", () => {
    const plan: BuildPlan = {
      kind: 'node',
      reason: 'test',
      rootDir: '.',
      install: { argv: ['npm', 'ci'] },
      build: { argv: ['npm', 'run', 'build'] },
      start: { argv: ['npm', 'start'] },
      healthPath: '/',
    } as BuildPlan;
    const input = {
      plan,
      baseImage: 'node:20-slim',
      app: 'shop',
      commitSha: 'abc',
      buildArgNames: [],
      cacheInstall: true,
    };
    const withMounts = generateDockerfile({ ...input, cacheMounts: true }).text;
    const mount = '--mount=type=cache,id=cloudsmith/shop,target=/cloudsmith-cache/shop';
    assert.ok(withMounts.includes(`RUN ${mount} ["npm","ci"]`), withMounts);
    assert.ok(withMounts.includes(`RUN ${mount} ["npm","run","build"]`), withMounts);
    assert.match(withMounts, /^ENV npm_config_cache=\/cloudsmith-cache\/shop\/npm /m);
    assert.doesNotMatch(generateDockerfile(input).text, /--mount|cloudsmith-cache/);
    // A cache generation (new when an app of that name comes back after deletion) is in every step's key.
    const generation = generateDockerfile({ ...input, cacheMounts: true, cacheGeneration: 'g1' }).text;
    assert.ok(
      generation.includes('RUN --mount=type=cache,id=cloudsmith/shop/g1,target=/cloudsmith-cache/shop ["npm","ci"]'),
    );
    assert.ok(generation.indexOf('ENV CLOUDSMITH_CACHE_GENERATION=g1') < generation.indexOf('COPY'), generation);
    assert.throws(() => generateDockerfile({ ...input, cacheGeneration: 'G 1' }), /not a cache generation/);
    // The image's labels are one instruction, the last: one classic-builder step rather than one per --label.
    const labelled = generateDockerfile({ ...input, imageLabels: { 'cloudsmith.deployment': 'd-1' } }).text.trim();
    assert.equal(labelled.split('\n').at(-1), 'LABEL cloudsmith.commit="abc" cloudsmith.deployment="d-1"');
    assert.throws(() => generateDockerfile({ ...input, imageLabels: { 'x y': 'z' } }), /not a label key/);
    assert.throws(
      () => generateDockerfile({ ...input, app: 'Shop,target=/', cacheMounts: true }),
      /cannot be a Docker image name/,
    );
  });
});
