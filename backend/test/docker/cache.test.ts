import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerCli } from '../../src/adapters/docker/cli';
import { appFilter } from '../../src/adapters/docker/names';
import { buildFiles, removeApps, requireDocker, testBuilder, type DockerTestEnv } from './helpers';

/** One small dependency (the CI budget): an install step to cache, cheap to run. */
function nodeApp(version: string, code: string): Record<string, string> {
  const pkg = {
    name: 'docker-cache',
    version,
    private: true,
    scripts: { start: 'node server.js' },
    dependencies: { ms: '2.1.3' },
  };
  const lock = {
    name: 'docker-cache',
    version,
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: 'docker-cache', version, dependencies: { ms: '2.1.3' } },
      'node_modules/ms': {
        version: '2.1.3',
        integrity: 'sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==',
        license: 'MIT',
      },
    },
  };
  return {
    'package.json': JSON.stringify(pkg),
    'package-lock.json': JSON.stringify(lock),
    'server.js': `require('node:http').createServer((_q, r) => r.end(require('ms')('1m') + ' ${code}')).listen(Number(process.env.PORT));`,
  };
}

/** What the engine printed right after the install step: whether it reused the layer is docker's own word. */
function afterInstall(log: string[]): string {
  const classic = log.findIndex((l) => /^Step \d+\/\d+ : RUN .*"npm","ci"/.test(l));
  if (classic >= 0) return log.slice(classic + 1, classic + 3).join('\n');
  const vertex = /^(#\d+) \[build \d+\/\d+\] RUN .*"npm","ci"/.exec(
    log.find((l) => /^#\d+ \[build .*"npm","ci"/.test(l)) ?? '',
  );
  assert.ok(vertex?.[1], `no npm ci step in:\n${log.join('\n')}`);
  return log
    .filter((l) => l.startsWith(`${vertex[1]} `))
    .slice(1)
    .join('\n');
}

function cacheLine(log: string[]): string {
  return log.find((l) => l.startsWith('cache restored') || l.startsWith('cache not restored')) ?? '(none)';
}

async function images(docker: DockerCli, app: string): Promise<string[]> {
  const out = await docker.output(['image', 'ls', ...appFilter(app), '--format', '{{.Repository}}:{{.Tag}}']);
  return out.split('\n').filter((l) => l && !l.endsWith(':<none>'));
}

/** The generation in the app's cache mount id, when the line is a step with one. */
function mountOf(line: string, app: string): string | undefined {
  return new RegExp(`--mount=type=cache,id=cloudsmith/${app}/([a-z0-9]+),target=/cloudsmith-cache/${app} `).exec(
    line,
  )?.[1];
}

/** Debian's 20.10 CLI has BuildKit built in (a newer CLI needs its buildx plugin, which these machines lack). */
const BUILDKIT_CLI = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';

describe('Docker builder cache: dependency layers, cache mounts and caps on the engine', function () {
  this.timeout(600_000);
  let env: DockerTestEnv;
  let docker: DockerCli;
  const run = Date.now().toString(36);
  const apps = new Set<string>();
  const app = (name: string) => {
    const full = `dc-${name}-${run}`;
    apps.add(full);
    return full;
  };

  before(function () {
    env = requireDocker(this);
    docker = new DockerCli({ host: env.host });
  });
  after(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when requireDocker skipped
    if (!env) return;
    await removeApps(new DockerCli({ host: env.host }), apps);
    // BuildKit's records of the apps' cache mounts too.
    const cleaner = testBuilder(env);
    for (const name of apps) await cleaner.forget(name);
  });

  for (const buildKit of [false, true]) {
    const mode = buildKit ? 'BuildKit' : 'classic builder';
    it(`${mode}: a code change reuses the install layer, a lockfile change does not, and the log says which`, async () => {
      const name = app(buildKit ? 'bk' : 'classic');
      const builder = testBuilder(env, {
        push: false,
        buildKit,
        ...(buildKit ? { docker: new DockerCli({ host: env.host, bin: BUILDKIT_CLI }) } : {}),
      });
      const cold: string[] = [];
      await buildFiles(builder, name, nodeApp('1.0.0', 'one'), cold);
      assert.doesNotMatch(afterInstall(cold), /Using cache|CACHED/);
      assert.match(cacheLine(cold), /^cache not restored: no earlier image of this app on the engine/);
      if (buildKit) {
        assert.ok(!cold.some((l) => /BuildKit is not available/.test(l)), cold.join('\n'));
        assert.match(cacheLine(cold), /it installs with the app's package cache mount/);
        assert.ok(cold.some((l) => mountOf(l, name)));
      }

      const warm: string[] = [];
      await buildFiles(builder, name, nodeApp('1.0.0', 'two'), warm);
      assert.match(afterInstall(warm), buildKit ? /^#\d+ CACHED$/m : /---> Using cache/);
      assert.match(cacheLine(warm), /^cache restored: the engine reused the dependency layer \(npm ci .* skipped\)/);

      const relocked: string[] = [];
      await buildFiles(builder, name, nodeApp('1.0.1', 'three'), relocked);
      assert.doesNotMatch(afterInstall(relocked), /Using cache|CACHED/);
      assert.match(cacheLine(relocked), /^cache not restored: package\.json, package-lock\.json changed/);

      // Deleting the app takes its images and cache mount: a later app of that name starts with nothing of it.
      await builder.forget(name);
      assert.deepEqual(await images(docker, name), []);
      const records = await docker.output(['system', 'df', '--verbose', '--format', '{{json .BuildCache}}']);
      assert.ok(!records.includes(`cached mount /cloudsmith-cache/${name} `), 'the cache mount is gone');
      if (buildKit) {
        const again: string[] = [];
        await buildFiles(builder, name, nodeApp('1.0.1', 'four'), again);
        assert.match(cacheLine(again), /^cache not restored: no earlier image/);
        assert.doesNotMatch(afterInstall(again), /CACHED/);
        const generation = (log: string[]) => log.map((l) => mountOf(l, name)).find(Boolean);
        assert.ok(generation(again) && generation(again) !== generation(cold), 'a new cache generation');
      }
    });
  }

  it('Python and Go (BuildKit): a code change reuses the venv and the module download layers', async () => {
    // Toolchain images made from the host's (no pulls here); idempotent, kept while the toolchains are unchanged.
    const out = execFileSync('bash', [join(__dirname, '..', '..', '..', 'scripts', 'stack-images.sh')], {
      encoding: 'utf8',
      env: { ...process.env, DOCKER_HOST: env.host, CLOUDSMITH_TEST_BASE_IMAGE: env.baseImage },
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 600_000,
    });
    const image = (name: string) => new RegExp(`^CLOUDSMITH_${name}_IMAGE=(.*)$`, 'm').exec(out)?.[1];
    const [python, go] = [image('PYTHON'), image('GO')];
    assert.ok(python && go, `stack-images.sh made no Python or Go image:\n${out}`);
    const builder = testBuilder(env, {
      push: false,
      buildKit: true,
      images: { python, go },
      docker: new DockerCli({ host: env.host, bin: BUILDKIT_CLI }),
    });
    const flask = join(__dirname, '..', 'fixtures', 'python-flask');
    const stacks: Record<string, (code: string) => Record<string, string>> = {
      python: (code) => ({
        'requirements.txt': readFileSync(join(flask, 'requirements.txt'), 'utf8'),
        'app.py': `${readFileSync(join(flask, 'app.py'), 'utf8')}\n# ${code}\n`,
      }),
      go: (code) => ({
        'go.mod': 'module example.com/cached\n\ngo 1.22\n',
        // A go.sum (empty: no requirements) makes `go mod download` the install step.
        'go.sum': '',
        'main.go': `package main\n\nimport (\n\t"net/http"\n\t"os"\n)\n\nfunc main() {\n\thttp.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("${code}")) })\n\thttp.ListenAndServe(":"+os.Getenv("PORT"), nil)\n}\n`,
      }),
    };
    for (const [stack, files] of Object.entries(stacks)) {
      const name = app(stack);
      const cold: string[] = [];
      await buildFiles(builder, name, files('one'), cold);
      assert.match(cacheLine(cold), /^cache not restored: no earlier image/, cold.join('\n'));
      const warm: string[] = [];
      await buildFiles(builder, name, files('two'), warm);
      assert.match(
        cacheLine(warm),
        stack === 'go'
          ? /^cache restored: .*\(go mod download skipped\)/
          : /^cache restored: .*pip .*install -r requirements\.txt/,
        warm.join('\n'),
      );
      const install = warm.find((l) => /^#\d+ \[build \d+\/\d+\] RUN --mount=type=cache/.test(l));
      const vertex = install?.split(' ')[0];
      assert.ok(
        vertex && warm.includes(`${vertex} CACHED`),
        `the engine did not reuse the install step:\n${warm.join('\n')}`,
      );
    }
  });

  it('keeps the newest releases and any image a container uses; drops older images and cached stages of the app', async () => {
    const name = app('cap');
    const builder = testBuilder(env, {
      push: false,
      cache: { keepReleases: 2, maxAppBytes: 1e9, maxTotalBytes: 1e12 },
    });
    const built: string[] = [];
    for (const code of ['a', 'b']) {
      const result = await buildFiles(builder, name, nodeApp('1.0.0', code));
      assert.equal(result.artifact.kind, 'image');
      built.push(result.artifact.image);
    }
    // A container of the oldest release (as a rollback's would be) keeps it however old it gets.
    const container = await docker.output(['create', '--label', `cloudsmith.app=${name}`, built[0] ?? '']);
    try {
      const log: string[] = [];
      for (const code of ['c', 'd']) {
        const result = await buildFiles(builder, name, nodeApp('1.0.0', code), log);
        assert.equal(result.artifact.kind, 'image');
        built.push(result.artifact.image);
      }
      const left = await images(docker, name);
      assert.deepEqual(left.sort(), [built[0], built[2], built[3]].sort(), log.join('\n'));
      assert.ok(log.some((l) => /^cache: removed \d+ old image\(s\) of .*; kept 2 release\(s\) for rollback/.test(l)));
      // The cached stage of the newest build stays: the next build still reuses its install layer.
      const next: string[] = [];
      await buildFiles(builder, name, nodeApp('1.0.0', 'e'), next);
      assert.match(cacheLine(next), /^cache restored/);
    } finally {
      await docker.run(['rm', '--force', container]);
    }
  });

  it('past the total cap, the least recently built app keeps only its newest release; the app building keeps its own', async () => {
    const [old, current] = [app('lru-old'), app('lru-new')];
    // A registry namespace of this test's own: the total cap trims only apps under the builder's registry, so
    // other suites' images on this shared engine are not candidates.
    const registry = `${env.registry}/dc-${run}`;
    // An app under another registry (another platform on the same engine) is no candidate, though built first.
    const bystander = app('lru-other');
    const other = testBuilder(env, { push: false });
    for (const code of ['a', 'b']) await buildFiles(other, bystander, nodeApp('1.0.0', code));
    const roomy = testBuilder(env, {
      registry,
      push: false,
      cache: { keepReleases: 3, maxAppBytes: 1e9, maxTotalBytes: 1e12 },
    });
    const oldImages: string[] = [];
    for (const code of ['a', 'b']) {
      const result = await buildFiles(roomy, old, nodeApp('1.0.0', code));
      assert.equal(result.artifact.kind, 'image');
      oldImages.push(result.artifact.image);
    }
    const tight = testBuilder(env, {
      registry,
      push: false,
      cache: { keepReleases: 3, maxAppBytes: 1e9, maxTotalBytes: 1 },
    });
    const log: string[] = [];
    const first = await buildFiles(tight, current, nodeApp('1.0.0', 'x'), log);
    assert.ok(
      log.some((l) => l.startsWith('cache: over the engine') && l.includes(old)),
      log.join('\n'),
    );
    assert.deepEqual(await images(docker, old), [oldImages[1]]);
    assert.equal((await images(docker, bystander)).length, 2);
    assert.equal(first.artifact.kind, 'image');
    assert.deepEqual(await images(docker, current), [first.artifact.image]);
  });
});
