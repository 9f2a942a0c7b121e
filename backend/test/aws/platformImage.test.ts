import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../src/health/health';
import { requireDocker, type DockerTestEnv } from '../docker/helpers';
import { missingPeer } from '../peers';
import { motoEndpoint, SKIP_MESSAGE, uniqueName } from './motoEnv';

const run = promisify(execFile);

/**
 * The platform image (backend/image): compiled JavaScript bundled into one file, built on the real dockerd, run as
 * Terraform runs it (`--service api`, the AWS adapters; moto stands in for DynamoDB and S3): one node process, no
 * tsx, serving the API.
 */
describe('the platform image, built and run on dockerd', function () {
  this.timeout(600_000);
  const endpoint = motoEndpoint();
  let docker: DockerTestEnv;
  let image = '';
  let container = '';
  const env = () => ({ ...process.env, DOCKER_HOST: docker.host, DOCKER_BUILDKIT: '0' });

  before(async function () {
    if (!endpoint) missingPeer(this, 'moto', SKIP_MESSAGE);
    docker = requireDocker(this);
    const context = await mkdtemp(join(tmpdir(), 'platform-image-'));
    try {
      await run(process.execPath, [join(__dirname, '..', '..', 'image', 'context.mjs'), context], {
        maxBuffer: 16 * 1024 * 1024,
      });
      image = `cloudsmith-platform:test-${uniqueName('')}`;
      await run('docker', ['build', '-q', '--build-arg', `BASE_IMAGE=${docker.baseImage}`, '-t', image, context], {
        env: env(),
      });
    } finally {
      await rm(context, { recursive: true, force: true });
    }
  });

  after(async () => {
    if (container) await run('docker', ['rm', '-f', container], { env: env() }).catch(() => undefined);
    if (image) await run('docker', ['rmi', '-f', image], { env: env() }).catch(() => undefined);
  });

  it('runs one service as one node process on the compiled bundle and answers on /healthz', async () => {
    const port = await freePort();
    const prefix = uniqueName('img-');
    const args = ['run', '-d', '--network', 'host'];
    const settings: Record<string, string> = {
      CLOUDSMITH_STORE: 'dynamodb',
      CLOUDSMITH_ARTIFACTS: 's3',
      AWS_ENDPOINT_URL: endpoint ?? '',
      AWS_REGION: 'us-east-1',
      PORT: String(port),
      HOST: '127.0.0.1',
      CLOUDSMITH_SECRET_KEY: 'test-secret-key-0123456789abcdefghijklmnop',
      CLOUDSMITH_DYNAMODB_PREFIX: `${prefix}-`,
      CLOUDSMITH_S3_BUCKET: prefix,
    };
    for (const [k, v] of Object.entries(settings)) args.push('-e', `${k}=${v}`);
    container = (await run('docker', [...args, image, '--service', 'api'], { env: env() })).stdout.trim();

    const deadline = Date.now() + 120_000;
    let health: { ok?: boolean; roles?: string[] } | undefined;
    while (!health) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        if (res.ok) health = (await res.json()) as { ok: boolean; roles: string[] };
      } catch {
        // not listening yet
      }
      if (!health && Date.now() > deadline) {
        const logs = await run('docker', ['logs', container], { env: env() });
        throw new Error(`the platform never answered:\n${logs.stdout}${logs.stderr}`);
      }
      if (!health) await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(health.ok, true);
    assert.deepEqual(health.roles, ['api']);
    const top = (await run('docker', ['top', container, '-o', 'pid,args'], { env: env() })).stdout;
    const processes = top.trim().split('\n').slice(1);
    assert.equal(processes.length, 1, top);
    assert.match(processes[0], /node \/opt\/cloudsmith\/platform\.cjs --service api$/);
    assert.doesNotMatch(top, /tsx/);
  });
});
