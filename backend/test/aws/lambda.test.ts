import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
} from '@aws-sdk/client-ecs';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { S3ArtifactStore } from '../../src/adapters/artifacts/s3/s3ArtifactStore';
import { awsClientConfig } from '../../src/adapters/aws/clients';
import { MemoryBus } from '../../src/adapters/bus/memory/memoryBus';
import { EcsRuntime, ecsNames, type EcsRuntimeOptions } from '../../src/adapters/runtime/ecs/ecsRuntime';
import { DynamoStore } from '../../src/adapters/store/dynamodb/dynamoStore';
import type { RunPlan } from '../../src/domain/deployment';
import {
  createArtifactUploadedHandler,
  PLAN_METADATA,
  type ArtifactUploadedDeps,
} from '../../src/lambda/artifact-uploaded';
import { artifactKey } from '../../src/ports/artifacts';
import { Sealer } from '../../src/security/sealer';
import { Cancellations } from '../../src/services/shared/cancellations';
import { DeploymentLog } from '../../src/services/shared/deploymentLog';
import type { Logger } from '../../src/lib/logger';
import { awsSettings, createMotoNetwork, motoEndpoint, must, s3Event, SKIP_MESSAGE, uniqueName } from './motoEnv';
import { missingPeer } from '../peers';

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('Lambda artifact-uploaded against moto (S3 event → Docksage release on ECS)', function () {
  this.timeout(120_000);
  const endpoint = motoEndpoint();
  let deps: ArtifactUploadedDeps;
  let options: EcsRuntimeOptions;
  let store: DynamoStore;
  let artifacts: S3ArtifactStore;
  let ecs: ECSClient;
  const sealer = new Sealer('test-secret-key-that-is-long-enough-0123456789');
  const plan: RunPlan = { kind: 'node', start: ['npm', 'start'], workdir: '.', healthPath: '/' };

  before(async function () {
    if (!endpoint) missingPeer(this, 'moto', SKIP_MESSAGE);
    options = {
      ...awsSettings(endpoint),
      ...(await createMotoNetwork(endpoint)),
      runnerImage: 'public.ecr.aws/cloudsmith/runner:1',
    };
    store = new DynamoStore({ ...awsSettings(endpoint), tablePrefix: `${uniqueName('lambda-')}-` });
    await store.init();
    artifacts = new S3ArtifactStore({ ...awsSettings(endpoint), bucket: uniqueName('cs-lambda-'), createBucket: true });
    await artifacts.ensureBucket();
    options.artifactBucket = artifacts.bucket;
    const bus = new MemoryBus();
    ecs = new ECSClient(awsClientConfig(awsSettings(endpoint)));
    deps = {
      store,
      bus,
      log: new DeploymentLog(store, bus),
      logger: quiet,
      cancellations: new Cancellations(),
      runtime: new EcsRuntime(options),
      sealer,
      artifacts,
    };
  });

  after(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the hook that sets it failed
    await deps?.runtime.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the hook that sets it failed
    await deps?.bus.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the hook that sets it failed
    await store?.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the hook that sets it failed
    artifacts?.client.destroy();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the hook that sets it failed
    ecs?.destroy();
  });

  it('releases the uploaded artifact with the runner image, records it live, and ignores the redelivered event', async () => {
    const app = uniqueName('lam-');
    const id = randomUUID();
    const commit = 'c'.repeat(40);
    const at = new Date().toISOString();
    await store.putApp({ name: app, ownerId: 'u1', ownerLogin: 'alice', repo: 'alice/site', createdAt: at });
    await store.putEnv(app, { GREETING: sealer.seal('hello') });
    await store.createDeployment({
      id,
      app,
      ownerId: 'u1',
      repo: 'alice/site',
      ref: 'main',
      commitSha: commit,
      status: 'building',
      overrides: {},
      timings: {},
      createdAt: at,
      updatedAt: at,
    });

    // A pipeline (Jenkins) uploads the artifact itself: no sha256 metadata, the plan as metadata.
    const key = artifactKey(app, commit, id);
    const body = Buffer.from('pretend tarball');
    await artifacts.client.send(
      new PutObjectCommand({
        Bucket: artifacts.bucket,
        Key: key,
        Body: body,
        Metadata: { [PLAN_METADATA]: Buffer.from(JSON.stringify(plan)).toString('base64') },
      }),
    );

    const handle = createArtifactUploadedHandler(deps);
    const result = await handle(s3Event(artifacts.bucket, key, body.length));
    assert.deepEqual(result, { released: [id], ignored: [] });

    const live = await store.getDeployment(id);
    assert.equal(live?.status, 'live', live?.error);
    assert.equal(live.url, `https://${app}.${options.appDomain}`);
    assert.equal(live.artifact?.kind, 'tarball');
    assert.equal((await store.getApp(app))?.liveDeploymentId, id);
    const logs = (await store.readLogs(id, 0)).map((l) => l.text);
    assert.ok(
      logs.some((t) => t.includes('Live at https://')),
      logs.join('\n'),
    );

    const names = ecsNames(app, options.cluster);
    const svc = must(
      (await ecs.send(new DescribeServicesCommand({ cluster: options.cluster, services: [names.service] })))
        .services?.[0],
      'service',
    );
    const td = must(
      (
        await ecs.send(
          new DescribeTaskDefinitionCommand({ taskDefinition: must(svc.taskDefinition, 'service task definition') }),
        )
      ).taskDefinition,
      'task definition',
    );
    const container = must(td.containerDefinitions?.[0], 'container definition');
    assert.equal(container.image, options.runnerImage);
    assert.deepEqual(container.command, plan.start);
    const env = Object.fromEntries(
      must(container.environment, 'environment').map((e) => [must(e.name, 'environment variable name'), e.value]),
    );
    assert.equal(env.CLOUDSMITH_ARTIFACT_KEY, key);
    assert.equal(env.CLOUDSMITH_ARTIFACT_BUCKET, artifacts.bucket);
    assert.equal(env.GREETING, 'hello');

    // S3 delivers at least once: the same event again changes nothing.
    const again = await handle(s3Event(artifacts.bucket, key, body.length));
    assert.deepEqual(again.released, []);
    assert.match(again.ignored[0]?.reason ?? '', /is live: another delivery released it/);
    const revisions = must(
      (await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: names.family }))).taskDefinitionArns,
      'task definition list',
    );
    assert.equal(revisions.length, 1, 'no second task definition for a redelivered event');
  });

  it('ignores objects that are not artifacts of a known deployment', async () => {
    const handle = createArtifactUploadedHandler(deps);
    const result = await handle({
      Records: [
        ...s3Event(artifacts.bucket, 'sources/app/sha/id.tar.gz', 1).Records,
        ...s3Event(artifacts.bucket, artifactKey('ghost', 'a'.repeat(40), randomUUID()), 1).Records,
        ...s3Event(artifacts.bucket, artifactKey('ghost', 'a'.repeat(40), randomUUID()), 1, 'ObjectRemoved:Delete')
          .Records,
      ],
    });
    assert.deepEqual(result.released, []);
    assert.deepEqual(
      result.ignored.map((i) => i.reason.split(' ')[0]),
      ['not', 'no', 'event'],
    );
  });
});
