import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from '../../src/adapters/artifacts/fs/fsArtifactStore';
import { DockerCli } from '../../src/adapters/docker/cli';
import type { Builder } from '../../src/ports/builder';
import { dockerTestEnv, removeApps, requireDocker, testBuilder } from '../docker/helpers';
import { describeBuilderContract } from './builder.contract';

describe('docker builder', function () {
  before(function () {
    requireDocker(this);
  });

  describeBuilderContract('docker', async () => {
    const env = dockerTestEnv();
    assert.ok(env, 'the suite’s before() required Docker');
    const dir = await mkdtemp(join(tmpdir(), 'builder-docker-'));
    const inner = testBuilder(env, { workDir: join(dir, 'work') });
    const apps: string[] = [];
    // Records the app names so cleanup removes exactly the images these builds made.
    const builder: Builder = {
      name: inner.name,
      build: (job, ctx) => {
        apps.push(job.app);
        return inner.build(job, ctx);
      },
    };
    return {
      builder,
      artifacts: new FsArtifactStore(join(dir, 'artifacts')),
      async cleanup() {
        await removeApps(new DockerCli({ host: env.host }), apps);
        await rm(dir, { recursive: true, force: true });
      },
    };
  });
});
