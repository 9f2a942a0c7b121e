import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The Lambda is composed by compose/lambda.ts with the platform's own factories, which load adapters on demand: its
 * wiring must not load the embedded adapters (better-sqlite3's native module, the local builder, the process
 * runtime), which the one-file Lambda bundle leaves out. Checked in a fresh process, where nothing else loaded them.
 */
describe('the Lambda composition loads only what the Lambda uses', function () {
  this.timeout(60_000);

  it('builds its dependencies without loading better-sqlite3 or any embedded adapter', async () => {
    const script = `
      const { artifactUploadedDeps } = require(${JSON.stringify(join(__dirname, '../../src/compose/lambda.ts'))});
      const { loadConfig } = require(${JSON.stringify(join(__dirname, '../../src/config.ts'))});
      artifactUploadedDeps(loadConfig({
        CLOUDSMITH_STORE: 'dynamodb', CLOUDSMITH_ARTIFACTS: 's3', CLOUDSMITH_RUNTIME: 'ecs',
        AWS_ENDPOINT_URL: 'http://127.0.0.1:9', CLOUDSMITH_SECRET_KEY: 'k'.repeat(40),
        CLOUDSMITH_ALB_LISTENER_ARN: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/x/1/2',
        CLOUDSMITH_VPC_ID: 'vpc-1', CLOUDSMITH_ECS_SUBNETS: 'subnet-1',
      })).then((deps) => {
        const loaded = Object.keys(require.cache);
        const embedded = loaded.filter((p) => /better-sqlite3|sqliteStore|localBuilder|processRuntime|fsArtifactStore/.test(p));
        console.log(JSON.stringify({ runtime: deps.runtime.name, embedded }));
        return deps.runtime.close();
      });
    `;
    const { stdout } = await run(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
      cwd: join(__dirname, '..', '..'),
    });
    const result = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { runtime: string; embedded: string[] };
    assert.equal(result.runtime, 'ecs');
    assert.deepEqual(result.embedded, []);
  });
});
