import assert from 'node:assert/strict';
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
} from '@aws-sdk/client-ecs';
import { DescribeRulesCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { S3ArtifactStore } from '../../src/adapters/artifacts/s3/s3ArtifactStore';
import { awsClientConfig } from '../../src/adapters/aws/clients';
import { ecsNames } from '../../src/adapters/runtime/ecs/ecsRuntime';
import { artifactUploadedDeps } from '../../src/compose/lambda';
import { lambdaOwnsRelease } from '../../src/compose/releaseOwner';
import { loadConfig } from '../../src/config';
import type { RunPlan } from '../../src/domain/deployment';
import type { BuildCompleted } from '../../src/domain/events';
import {
  createArtifactUploadedHandler,
  type ArtifactUploadedDeps,
  type ArtifactUploadedResult,
} from '../../src/lambda/artifact-uploaded';
import { requireDocker } from '../docker/helpers';
import { startJenkinsStandin, type JenkinsStandin } from '../helpers/jenkinsStandin';
import { World } from '../helpers/world';
import { missingPeer } from '../peers';
import { buildRunnerImage, runContainerDefinition, waitHealthyTask, type RunningTask } from './fargateOnDockerd';
import { awsSettings, createMotoNetwork, motoEndpoint, s3Event, SKIP_MESSAGE, uniqueName } from './motoEnv';

/** The key World's platform seals app env with; the Lambda gets it from Secrets Manager. */
const PLATFORM_KEY = 'test-secret-key-0123456789abcdefghijklmnop';

/**
 * The production path across every seam: a deploy through the API with the Jenkins builder (the stand-in runs the
 * real jenkins/steps) → the artifact in S3 (moto) with its run-plan metadata → the S3 event, delivered twice, to the
 * artifact-uploaded Lambda → the app image (runner image + artifact layer) pushed to the registry with an ECR token
 * from moto → the task definition in moto pinned to that digest → that task definition run on the real dockerd,
 * serving the app → the ALB rule in moto → the deployment live exactly once, while Docksage sees the same build.
 */
describe('e2e: the AWS path, Jenkins → S3 → Lambda → ECR → ECS (moto) → the task run on dockerd', function () {
  this.timeout(600_000);
  const endpoint = motoEndpoint();
  let world: World | undefined;
  let jenkins: JenkinsStandin | undefined;
  let lambdaDeps: ArtifactUploadedDeps | undefined;
  let task: RunningTask | undefined;
  let network: Awaited<ReturnType<typeof createMotoNetwork>>;
  let docker: ReturnType<typeof requireDocker>;
  const clients: Array<{ destroy(): void }> = [];
  /** Every delivery of an S3 event to the Lambda, as S3 would make them after the upload. */
  const deliveries: Array<Promise<ArtifactUploadedResult>> = [];
  const completed: BuildCompleted[] = [];
  const bucket = uniqueName('cs-path-');
  const tablePrefix = `${uniqueName('path-')}-`;
  const appRepository = uniqueName('cloudsmith-apps-');
  let env: Record<string, string>;

  before(async function () {
    if (!endpoint) missingPeer(this, 'moto', SKIP_MESSAGE);
    docker = requireDocker(this);
    const aws = awsClientConfig(awsSettings(endpoint));
    const ecr = new ECRClient(aws);
    const secrets = new SecretsManagerClient(aws);
    clients.push(ecr, secrets);
    network = await createMotoNetwork(endpoint);
    // ECR's control plane is moto; its data plane (where images are pushed and pulled) is the local registry.
    await ecr.send(new CreateRepositoryCommand({ repositoryName: appRepository }));
    const secret = await secrets.send(
      new CreateSecretCommand({ Name: uniqueName('cs-key-'), SecretString: PLATFORM_KEY }),
    );
    const runnerImage = await buildRunnerImage(docker);

    env = {
      CLOUDSMITH_STORE: 'dynamodb',
      CLOUDSMITH_ARTIFACTS: 's3',
      CLOUDSMITH_RUNTIME: 'ecs',
      CLOUDSMITH_BUILDER: 'jenkins',
      CLOUDSMITH_RELEASE_OWNER: 'lambda',
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: 'us-east-1',
      CLOUDSMITH_S3_BUCKET: bucket,
      CLOUDSMITH_DYNAMODB_PREFIX: tablePrefix,
      CLOUDSMITH_ECS_CLUSTER: network.cluster,
      CLOUDSMITH_ECS_SUBNETS: network.subnets.join(','),
      CLOUDSMITH_ECS_SECURITY_GROUPS: network.securityGroups.join(','),
      CLOUDSMITH_ALB_LISTENER_ARN: network.listenerArn,
      CLOUDSMITH_VPC_ID: network.vpcId,
      CLOUDSMITH_ECS_APP_DOMAIN: network.appDomain,
      CLOUDSMITH_ECS_RUNNER_IMAGE: runnerImage,
      CLOUDSMITH_ECR_APP_REPOSITORY: appRepository,
      CLOUDSMITH_ECR_REGISTRY: docker.registry,
      JENKINS_ARTIFACT_BUCKET: bucket,
    };

    // The Lambda's own wiring, from its own environment: no platform key in it, the secret's ARN instead.
    const lambdaEnv: Record<string, string> = { ...env, CLOUDSMITH_SECRET_KEY_ARN: secret.ARN ?? '' };
    lambdaDeps = await artifactUploadedDeps(loadConfig(lambdaEnv));
    await lambdaDeps.store.init();
    const handle = createArtifactUploadedHandler(lambdaDeps);

    // What S3 does after an upload: it notifies, asynchronously, at least once. Here: twice, at the same time.
    const s3 = new S3ArtifactStore({ ...awsSettings(endpoint), bucket, createBucket: true });
    clients.push(s3.client);
    const notifying = Object.assign(Object.create(s3) as S3ArtifactStore, {
      async putFile(key: string, path: string, meta?: { plan?: RunPlan }) {
        const stored = await s3.putFile(key, path, meta);
        // Only what terraform's notification filter (filter_prefix artifacts/) lets through: not the build cache.
        if (!key.startsWith('artifacts/')) return stored;
        const event = s3Event(bucket, key, stored.size);
        deliveries.push(handle(event), handle(structuredClone(event)));
        return stored;
      },
    });
    jenkins = await startJenkinsStandin({ s3: notifying });
    world = await World.start({
      env: {
        ...env,
        JENKINS_URL: jenkins.url,
        JENKINS_USER: jenkins.user,
        JENKINS_API_TOKEN: jenkins.apiToken,
        JENKINS_JOB: jenkins.job,
      },
    });
    await world.platform.bus.subscribe('build.completed', { group: 'test-observer' }, async (event) => {
      completed.push(event);
    });
  });

  after(async () => {
    await task?.stop();
    await world?.close();
    await jenkins?.close();
    await lambdaDeps?.runtime.close();
    await lambdaDeps?.bus.close();
    for (const c of clients) c.destroy();
  });

  it('deploys through the API and goes live exactly once on an image pinned by digest, served from the registered task', async () => {
    assert.ok(world && jenkins && endpoint);
    const ecs = new ECSClient(awsClientConfig(awsSettings(endpoint)));
    const elb = new ElasticLoadBalancingV2Client(awsClientConfig(awsSettings(endpoint)));
    clients.push(ecs, elb);

    // A repo name of its own: task definition families are account-wide, and moto is shared by every run.
    const repo = `alice/${uniqueName('site-')}`;
    await world.addRepo(repo, 'static-site');
    const queued = (await world.deploy(world.alice, { repo, env: { GREETING: 'from-the-api' } })) as { id: string };
    const done = (await world.waitFor(world.alice, queued.id)) as { status: string; error?: string; app: string };
    assert.equal(done.status, 'live', done.error);
    const app = done.app;

    // The S3 event was delivered twice: one delivery released, the other found it claimed.
    const results = await Promise.all(deliveries);
    assert.equal(results.length, 2);
    assert.deepEqual(
      results.flatMap((r) => r.released),
      [queued.id],
    );
    assert.equal(results.flatMap((r) => r.ignored).length, 1);
    assert.match(results.flatMap((r) => r.ignored)[0].reason, /another delivery released it/);

    // Docksage saw the same build (Buildrelay published it after Jenkins finished) and left it to the Lambda.
    await waitUntil(() => completed.some((e) => e.deploymentId === queued.id));
    const build = defined(completed.find((e) => e.deploymentId === queued.id));
    assert.equal(lambdaOwnsRelease(world.platform.config, build), true);
    const log = await world.logText(world.alice, queued.id);
    assert.equal(log.match(/Live at /g)?.length, 1, log);
    assert.equal(log.match(/Releasing /g)?.length, 1, log);

    // The task definition in moto: one revision, the image pinned to the digest pushed to the registry.
    const names = ecsNames(app, network.cluster);
    const revisions = defined(
      (await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: names.family }))).taskDefinitionArns,
    );
    assert.equal(revisions.length, 1, 'one release, one revision');
    const svc = defined(
      (await ecs.send(new DescribeServicesCommand({ cluster: network.cluster, services: [names.service] }))).services,
    )[0];
    assert.equal(svc.taskDefinition, revisions[0]);
    const td = defined(
      (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: revisions[0] }))).taskDefinition,
    );
    const container = defined(td.containerDefinitions)[0];
    const image = defined(container.image);
    assert.match(image, new RegExp(`^${docker.registry}/${appRepository}@sha256:[0-9a-f]{64}$`));
    const digest = image.split('@')[1];
    const tagged = await fetch(
      `http://${docker.registry}/v2/${appRepository}/manifests/${app}-${build.artifact.kind === 'tarball' ? build.artifact.key.split('/')[2] : ''}`,
      {
        method: 'HEAD',
        headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
      },
    );
    assert.equal(tagged.headers.get('docker-content-digest'), digest, 'the commit tag names the pinned image');
    const envOf = new Map((container.environment ?? []).map((e) => [e.name, e.value]));
    assert.equal(envOf.get('GREETING'), 'from-the-api');
    assert.equal(envOf.get('CLOUDSMITH_ARTIFACT_KEY'), undefined, 'the artifact is in the image, not fetched from S3');

    // The ALB rule in moto sends the app's host to its target group.
    const rules = defined((await elb.send(new DescribeRulesCommand({ ListenerArn: network.listenerArn }))).Rules);
    const rule = rules.find((r) =>
      r.Conditions?.some((c) => c.HostHeaderConfig?.Values?.includes(`${app}.${network.appDomain}`)),
    );
    assert.ok(rule?.Actions?.[0]?.TargetGroupArn, 'a host rule forwards to the app');

    // moto runs no tasks: this replaces Fargate. The registered image, command, env, port mapping and health
    // check run on the real dockerd, and the app must pass that health check and serve its page.
    task = await runContainerDefinition(docker, container);
    await waitHealthyTask(task);
    const res = await fetch(`http://127.0.0.1:${task.hostPort}/`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /static-site ok/);
  });
});

function defined<T>(value: T | undefined): T {
  assert.ok(value !== undefined);
  return value;
}

async function waitUntil(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}
