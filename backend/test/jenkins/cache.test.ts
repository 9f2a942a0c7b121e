import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { awsClientConfig } from '../../src/adapters/aws/clients';
import type { BuildJob } from '../../src/ports/builder';
import { remoteCachePrefix } from '../../src/cache/remote';
import { listFiles, unpackArtifact } from '../contracts/builder.contract';
import { awsSettings, motoEndpoint, must, requireMoto, uniqueName } from '../aws/motoEnv';
import { S3ArtifactStore } from '../../src/adapters/artifacts/s3/s3ArtifactStore';
import { JenkinsBuilder } from '../../src/adapters/builder/jenkins/jenkinsBuilder';
import { jenkinsFixture, type JenkinsFixture } from './fixture';

const FIXTURES = join(__dirname, '..', 'fixtures');
/** The install stage ran the user's install command (detect prints the command too, in its own stage). */
const INSTALLED = /── install ──\n(?:(?!── build ──)[^])*\[cloudsmith\] install: npm ci/;

/**
 * The Jenkins pipeline's build cache in S3: jenkins/steps/cache-restore.sh and cache-save.sh run for real (in the
 * Jenkins stand-in, which runs the Jenkinsfile's steps; no Jenkins server can be installed here) with the real AWS
 * CLI against moto's S3, the way an agent with an instance role reaches the bucket. The key is the platform's
 * (backend/src/cache/key.ts and stacks.ts, through cache/remote.ts), sent as build parameters.
 */
describe('Jenkins build cache in S3 (Jenkins stand-in, moto S3)', function () {
  this.timeout(300_000);
  let fx: JenkinsFixture;
  let s3: S3Client;
  let bucket: string;
  const awsSecret = `moto-secret-${randomBytes(8).toString('hex')}`;

  before(async function () {
    const endpoint = requireMoto(this);
    bucket = uniqueName('cs-cache-');
    const settings = awsSettings(endpoint);
    s3 = new S3Client({ ...awsClientConfig(settings), forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    fx = await jenkinsFixture({
      standin: {
        aws: { endpoint, region: settings.region, accessKeyId: 'testing', secretAccessKey: awsSecret },
      },
      builder: { cache: { bucket, salt: randomBytes(32), maxAppMb: 512 } },
    });
  });

  after(async function () {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
    await fx?.cleanup();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
    s3?.destroy();
  });

  /** Builds `dir` (a copy of a fixture, maybe edited) as a deployment of `app`; the log and the artifact's files. */
  async function build(app: string, dir: string, env: Record<string, string> = {}) {
    const published = await fx.publishSource(app, dir);
    const job: BuildJob = {
      deploymentId: randomUUID(),
      app,
      repo: `fixtures/${app}`,
      commitSha: published.commitSha,
      sourceDir: dir,
      cloneUrl: published.cloneUrl,
      sealedToken: published.sealedToken,
      overrides: {},
      env,
    };
    const logs: string[] = [];
    const result = await fx.builder.build(job, { signal: new AbortController().signal, log: (l) => logs.push(l) });
    const files = await listFiles(await unpackArtifact(fx.artifacts, result, fx.dir));
    const jenkinsBuild = [...fx.jenkins.builds.values()].at(-1);
    assert.ok(jenkinsBuild);
    return { log: logs.join('\n'), files, params: jenkinsBuild.params, build: jenkinsBuild };
  }

  async function source(fixture: string): Promise<string> {
    const dir = join(fx.dir, `src-${fixture}-${randomUUID().slice(0, 8)}`);
    await cp(join(FIXTURES, fixture), dir, { recursive: true });
    return dir;
  }

  /** Every object under the app's cache prefix, with the key each was saved under. */
  async function entries(app: string): Promise<{ name: string; key: string }[]> {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: remoteCachePrefix(app) }));
    return Promise.all(
      (listed.Contents ?? []).map(async (o) => {
        const name = must(o.Key, 'key');
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: name }));
        assert.match(head.Metadata?.sha256 ?? '', /^[0-9a-f]{64}$/, 'the entry carries its sha256');
        return { name, key: head.Metadata?.['cache-key'] ?? '' };
      }),
    );
  }

  function noSecrets(run: Awaited<ReturnType<typeof build>>) {
    const console = run.build.log.toString('utf8');
    assert.ok(!console.includes(awsSecret) && !run.log.includes(awsSecret), 'AWS secret in a log');
    for (const argv of run.build.argv) assert.ok(!argv.join(' ').includes(awsSecret), 'AWS secret in argv');
    assert.ok(!Object.values(run.params).some((v) => v.includes(awsSecret)), 'AWS secret in a parameter');
  }

  const app = uniqueName('cached-');

  it('a second build of an unchanged lockfile restores node_modules from S3 and skips npm ci', async function () {
    const first = await build(app, await source('node-express'));
    assert.match(first.log, /cache not restored: no cache yet/);
    assert.match(first.log, INSTALLED);
    assert.match(first.log, /cache saved \(\d+\.\d MB, \d+\.\d\d s\)/);
    assert.equal(first.params.CACHE_URL, `s3://${bucket}/cache/${app}/`);
    assert.match(first.params.CACHE_DIRS, /^exact:node_modules$/);
    const saved = await entries(app);
    assert.deepEqual(
      saved.map((e) => e.name),
      [`cache/${app}/jenkins.tar.gz`],
    );
    // The agent's toolchain, then the platform's key: lockfiles, commands, env (HMAC).
    assert.match(
      must(saved[0], 'entry').key,
      new RegExp(`^[0-9a-f]{16}\\.${first.params.CACHE_KEY.replace(/\./g, '\\.')}$`),
    );
    noSecrets(first);

    // A code change, the lockfile unchanged: same key, node_modules comes back and the install is skipped.
    const dir = await source('node-express');
    await writeFile(join(dir, 'server.js'), `${await readFile(join(dir, 'server.js'), 'utf8')}\n// changed\n`);
    const second = await build(app, dir);
    assert.equal(second.params.CACHE_KEY, first.params.CACHE_KEY);
    assert.match(second.log, /cache restored \(\d+\.\d MB, \d+\.\d\d s\): node_modules, package store\n/);
    assert.match(second.log, /install skipped: the cache holds its result/);
    assert.doesNotMatch(second.log, INSTALLED);
    assert.match(second.log, /cache not saved: its key's entry is already in S3/);
    assert.ok(second.files.includes('node_modules/express/package.json'), 'the artifact has the restored node_modules');
    assert.deepEqual(await entries(app), saved);
    noSecrets(second);
  });

  it('discards a corrupt entry, builds cold and saves a good one in its place', async function () {
    const key = `${remoteCachePrefix(app)}jenkins.tar.gz`;
    const stored = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = Buffer.from(await must(stored.Body, 'body').transformToByteArray());
    // Cut short, under the sha256 it was saved with: what a partial or damaged copy looks like to a reader.
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: bytes.subarray(0, bytes.length >> 1),
        Metadata: stored.Metadata,
      }),
    );
    const run = await build(app, await source('node-express'));
    assert.match(run.log, /cache not restored: corrupt cache discarded: its sha256 is not the one it was saved with/);
    assert.match(run.log, INSTALLED);
    assert.match(run.log, /cache saved \(/);
    assert.ok(run.files.includes('node_modules/express/package.json'));

    // Bytes that match their recorded sha256 but are no archive: discarded as well.
    const junk = randomBytes(4096);
    const sha256 = createHash('sha256').update(junk).digest('hex');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: junk, Metadata: { sha256 } }));
    const again = await build(app, await source('node-express'));
    assert.match(again.log, /cache not restored: corrupt cache discarded: it does not unpack/);
    assert.match(again.log, INSTALLED);
    assert.match(again.log, /cache saved \(/);

    const next = await build(app, await source('node-express'));
    assert.match(next.log, /cache restored \([^)]*\): node_modules/);
    assert.match(next.log, /install skipped/);
  });

  it('a changed lockfile misses: node_modules is reinstalled, the store comes back, one entry is kept', async function () {
    const before = await entries(app);
    const dir = await source('node-express');
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(dir, 'package.json'), JSON.stringify({ ...pkg, description: 'changed' }, null, 2));
    const run = await build(app, dir);
    assert.match(run.log, /cache restored \([^)]*\): package store; lockfile changed/);
    assert.doesNotMatch(run.log, /cache restored[^\n]*node_modules/);
    assert.match(run.log, INSTALLED);
    assert.match(run.log, /cache saved \(/);
    const after = await entries(app);
    assert.equal(after.length, 1, 'one entry per app');
    assert.notEqual(after[0]?.key, before[0]?.key, 'saved under the new key');
  });

  it('a changed env value misses without the value reaching a parameter', async function () {
    const plain = await build(app, await source('node-express'));
    assert.match(plain.log, /lockfile changed/);
    const secret = `env-secret-${randomBytes(6).toString('hex')}`;
    const withEnv = await build(app, await source('node-express'), { NPM_TOKEN: secret });
    assert.match(withEnv.log, /cache restored \([^)]*\): package store; environment changed/);
    assert.match(withEnv.log, INSTALLED);
    assert.ok(!Object.values(withEnv.params).some((v) => v.includes(secret)), 'an env value in a parameter');
    assert.ok(!withEnv.build.log.toString('utf8').includes(secret));
  });

  it('Go: the module and build caches come back as the package store (GOCACHE, GOMODCACHE)', async function () {
    const goApp = uniqueName('cached-go-');
    const first = await build(goApp, await source('go-server'));
    assert.match(first.params.CACHE_STORE_ENV, /GOCACHE=@store\/go\/build/);
    assert.match(first.log, /cache not restored: no cache yet/);
    assert.match(first.log, /cache saved \(/);
    const second = await build(goApp, await source('go-server'));
    assert.match(second.log, /cache restored \([^)]*\): package store\n/);
    assert.doesNotMatch(second.log, /cache saved/);
  });

  it("a deleted app's entry goes with it", async function () {
    const store = new S3ArtifactStore({ ...awsSettings(must(motoEndpoint(), 'endpoint')), bucket });
    try {
      const builder = new JenkinsBuilder({
        url: fx.jenkins.url,
        user: fx.jenkins.user,
        apiToken: fx.jenkins.apiToken,
        job: fx.jenkins.job,
        pollMs: 50,
        artifacts: store,
        openToken: (sealed) => sealed,
        cache: { bucket, salt: randomBytes(32), maxAppMb: 512 },
      });
      assert.equal((await entries(app)).length, 1);
      await builder.forget(app);
      assert.deepEqual(await entries(app), []);
    } finally {
      store.client.destroy();
    }
  });

  it('refuses app names that are not one safe path segment', function () {
    for (const bad of ['../other', 'a/b', '.hidden', '', 'x'.repeat(200)]) assert.throws(() => remoteCachePrefix(bad));
  });
});

describe('Jenkins cache steps refuse parameters the platform never sends', function () {
  const restore = join(__dirname, '..', '..', '..', 'jenkins', 'steps', 'cache-restore.sh');
  const good = {
    CACHE_URL: 's3://cs-bucket/cache/app-1/',
    CACHE_KEY: ['0123456789abcdef', '0123456789abcdef', '0123456789abcdef'].join('.'),
    CACHE_DIRS: 'exact:node_modules any:.next/cache',
    CACHE_STORE_ENV: 'npm_config_cache=@store/npm',
  };
  const cases: [Partial<typeof good>, RegExp][] = [
    [{ CACHE_URL: 's3://cs-bucket/cache/../other/' }, /CACHE_URL is not/],
    [{ CACHE_URL: 's3://cs-bucket/cache/a;touch${IFS}PWNED/' }, /CACHE_URL is not/],
    [{ CACHE_URL: 's3://cs-bucket/artifacts/app-1/' }, /CACHE_URL is not/],
    [{ CACHE_KEY: '$(touch PWNED)' }, /CACHE_KEY is malformed/],
    [{ CACHE_DIRS: 'exact:../../etc' }, /CACHE_DIRS is malformed/],
    [{ CACHE_DIRS: 'exact:/etc' }, /CACHE_DIRS is malformed/],
    [{ CACHE_DIRS: 'exact:*' }, /CACHE_DIRS is malformed/],
    [{ CACHE_STORE_ENV: 'npm_config_cache=$(touch PWNED)' }, /CACHE_STORE_ENV is malformed/],
    [{ CACHE_STORE_ENV: 'LD_PRELOAD x=1' }, /CACHE_STORE_ENV is malformed/],
  ];

  it('logs why it builds cold, exits 0 and calls nothing', async function () {
    const workspace = await mkdtemp(join(tmpdir(), 'cache-step-'));
    try {
      await mkdir(join(workspace, 'out'));
      await mkdir(join(workspace, 'src'));
      await writeFile(
        join(workspace, 'out', 'plan.env'),
        "PLAN_ROOT=.\nPLAN_INSTALL='npm ci'\nPLAN_BUILD=''\nPLAN_OUTPUT=''\n",
      );
      // An `aws` that leaves a mark: none of these may reach S3.
      const bin = join(workspace, 'bin');
      await mkdir(bin);
      await writeFile(join(bin, 'aws'), `#!/bin/sh\ntouch "${join(workspace, 'AWS_CALLED')}"\n`, { mode: 0o755 });
      for (const [bad, why] of cases) {
        const run = spawnSync('bash', [restore], {
          cwd: workspace,
          env: { PATH: `${bin}:${process.env.PATH ?? ''}`, WORKSPACE: workspace, ...good, ...bad },
          encoding: 'utf8',
        });
        assert.equal(run.status, 0, run.stderr);
        assert.match(run.stdout, new RegExp(`cache not restored: ${why.source}`), JSON.stringify(bad));
        assert.ok(!existsSync(join(workspace, 'out', 'cache.env')), 'a cache was set up');
      }
      assert.ok(!existsSync(join(workspace, 'AWS_CALLED')), 'aws was called');
      assert.ok(
        !existsSync(join(workspace, 'PWNED')) && !existsSync(join(workspace, 'src', 'PWNED')),
        'a parameter ran',
      );
    } finally {
      await rm(workspace, { recursive: true, force: true });
    }
  });
});
