import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3ArtifactStore } from '../../src/adapters/artifacts/s3/s3ArtifactStore';
import { packDir } from '../../src/archive/tarball';
import { artifactKey } from '../../src/ports/artifacts';
import { freePort, waitHealthy } from '../../src/health/health';
import { awsSettings, motoEndpoint, SKIP_MESSAGE, uniqueName } from './motoEnv';
import { missingPeer } from '../peers';

const RUNNER = join(__dirname, '..', '..', '..', 'terraform', 'runner', 'runner.mjs');

/** The runner image's entrypoint (terraform/runner) run as a plain process: S3 download, sha256 check, unpack, start. */
describe('runner entrypoint (tarball artifacts on Fargate) against moto S3', function () {
  this.timeout(60_000);
  const endpoint = motoEndpoint();
  let dir: string;
  let store: S3ArtifactStore;
  let key: string;
  let sha256: string;
  let child: ChildProcess | undefined;

  before(async function () {
    if (!endpoint) missingPeer(this, 'moto', SKIP_MESSAGE);
    dir = await mkdtemp(join(tmpdir(), 'runner-'));
    const app = join(dir, 'app');
    await mkdir(app);
    await writeFile(
      join(app, 'server.js'),
      "require('http').createServer((q, s) => s.end(JSON.stringify({ ok: true, cwd: process.cwd(), leaked: Object.keys(process.env).filter((k) => k.startsWith('CLOUDSMITH_ARTIFACT_')) }))).listen(process.env.PORT);\n",
    );
    const tarball = join(dir, 'artifact.tar.gz');
    await packDir(app, tarball);
    store = new S3ArtifactStore({ ...awsSettings(endpoint), bucket: uniqueName('cs-runner-'), createBucket: true });
    key = artifactKey('runner-app', 'd'.repeat(40), 'dep-runner');
    sha256 = (await store.putFile(key, tarball)).sha256;
  });

  afterEach(() => {
    child?.kill('SIGTERM');
    child = undefined;
  });

  after(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the hook that sets it failed
    store?.client.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function run(sha: string, port: number): { proc: ChildProcess; output: () => string } {
    let out = '';
    const proc = spawn(process.execPath, [RUNNER, 'node', 'server.js'], {
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        AWS_ENDPOINT_URL: endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'cloudsmith-local',
        AWS_SECRET_ACCESS_KEY: 'cloudsmith-local',
        CLOUDSMITH_ARTIFACT_BUCKET: store.bucket,
        CLOUDSMITH_ARTIFACT_KEY: key,
        CLOUDSMITH_ARTIFACT_SHA256: sha,
        CLOUDSMITH_WORKDIR: '.',
        CLOUDSMITH_RELEASE_DIR: join(dir, `release-${port}`),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    return { proc, output: () => out };
  }

  it('downloads, verifies and unpacks the artifact, then runs the start command with PORT and without the artifact variables', async () => {
    const port = await freePort();
    const { proc, output } = run(sha256, port);
    child = proc;
    await waitHealthy(`http://127.0.0.1:${port}`, { timeoutMs: 30_000, isAlive: () => proc.exitCode === null }).catch(
      (err: unknown) => {
        throw new Error(`${err instanceof Error ? err.message : String(err)}\n${output()}`);
      },
    );
    const body = (await (await fetch(`http://127.0.0.1:${port}/`)).json()) as {
      ok: boolean;
      cwd: string;
      leaked: string[];
    };
    assert.equal(body.ok, true);
    assert.equal(body.cwd, join(dir, `release-${port}`));
    assert.deepEqual(body.leaked, []);
    const exited = new Promise<number | null>((r) =>
      proc.on('exit', (code) => {
        r(code);
      }),
    );
    proc.kill('SIGTERM');
    await exited;
  });

  it('refuses an artifact whose sha256 does not match and starts nothing', async () => {
    const port = await freePort();
    const { proc, output } = run('0'.repeat(64), port);
    const code = await new Promise<number | null>((r) =>
      proc.on('exit', (c) => {
        r(c);
      }),
    );
    assert.equal(code, 1);
    assert.match(output(), /corrupt/);
  });
});
