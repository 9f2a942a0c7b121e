import assert from 'node:assert/strict';
import {
  ApplicationAutoScalingClient,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
} from '@aws-sdk/client-application-auto-scaling';
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient } from '@aws-sdk/client-ecs';
import {
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { awsClientConfig } from '../../src/adapters/aws/clients';
import { ecsNames } from '../../src/adapters/runtime/ecs/ecsRuntime';
import { dockerTestEnv, SKIP_MESSAGE as DOCKER_SKIP } from '../docker/helpers';
import { World } from '../helpers/world';
import { awsSettings, createMotoNetwork, motoEndpoint, must, SKIP_MESSAGE, uniqueName } from './motoEnv';
import { missingPeer } from '../peers';
import type { DeploymentView } from '@cloudsmith/client';

/**
 * The whole pipeline with the AWS adapters: store=dynamodb, artifacts=s3, runtime=ecs, through startPlatform and the
 * HTTP API. The builder is the real local builder (no stand-in): it produces a tarball in S3, which the ECS runtime
 * runs with the runner image, the production setup of terraform/. Moto does not run tasks, so the assertions are on
 * the AWS state the deployment leaves behind, not on serving traffic.
 */
describe('e2e: pipeline on the AWS adapters against moto (dynamodb + s3 + ecs)', function () {
  this.timeout(300_000);
  const endpoint = motoEndpoint();
  let world: World;
  let network: Awaited<ReturnType<typeof createMotoNetwork>>;
  let ecs: ECSClient;
  let elb: ElasticLoadBalancingV2Client;
  let scaling: ApplicationAutoScalingClient;
  let s3: S3Client;
  let dynamo: DynamoDBClient;
  const bucket = uniqueName('cs-e2e-');
  const tablePrefix = `${uniqueName('e2e-')}-`;
  const runnerImage = 'public.ecr.aws/cloudsmith/runner:1';

  before(async function () {
    if (!endpoint) missingPeer(this, 'moto', SKIP_MESSAGE);
    network = await createMotoNetwork(endpoint);
    const config = awsClientConfig(awsSettings(endpoint));
    ecs = new ECSClient(config);
    elb = new ElasticLoadBalancingV2Client(config);
    scaling = new ApplicationAutoScalingClient(config);
    s3 = new S3Client({ ...config, forcePathStyle: true });
    dynamo = new DynamoDBClient(config);
    world = await World.start({
      env: {
        CLOUDSMITH_STORE: 'dynamodb',
        CLOUDSMITH_ARTIFACTS: 's3',
        CLOUDSMITH_RUNTIME: 'ecs',
        AWS_ENDPOINT_URL: endpoint,
        AWS_REGION: 'us-east-1',
        CLOUDSMITH_S3_BUCKET: bucket,
        CLOUDSMITH_DYNAMODB_PREFIX: tablePrefix,
        CLOUDSMITH_ECS_CLUSTER: network.cluster,
        CLOUDSMITH_ECS_SUBNETS: network.subnets.join(','),
        CLOUDSMITH_ECS_SECURITY_GROUPS: network.securityGroups.join(','),
        CLOUDSMITH_ALB_LISTENER_ARN: network.listenerArn,
        CLOUDSMITH_VPC_ID: network.vpcId,
        CLOUDSMITH_ECS_EXECUTION_ROLE_ARN: must(network.executionRoleArn, 'execution role'),
        CLOUDSMITH_ECS_RUNNER_IMAGE: runnerImage,
        CLOUDSMITH_ECS_APP_DOMAIN: network.appDomain,
        CLOUDSMITH_ECS_MIN_TASKS: '1',
        CLOUDSMITH_ECS_MAX_TASKS: '3',
      },
    });
  });

  after(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
    await world?.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
    for (const c of [ecs, elb, scaling, s3, dynamo]) c?.destroy();
  });

  async function serviceOf(app: string) {
    const res = await ecs.send(
      new DescribeServicesCommand({ cluster: network.cluster, services: [ecsNames(app, network.cluster).service] }),
    );
    return must(res.services?.[0], 'service');
  }

  async function containerOf(taskDefinition: string) {
    const res = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition }));
    return must(res.taskDefinition?.containerDefinitions?.[0], 'container definition');
  }

  const envOf = (c: { environment?: Array<{ name?: string; value?: string }> }) =>
    Object.fromEntries((c.environment ?? []).map((e) => [e.name ?? '', e.value ?? '']));

  it('deploys a repo to ECS: state in DynamoDB, artifact in S3, task definition, service, target group, rule, scaling', async () => {
    await world.addRepo('alice/site', 'static-site');
    const queued = await world.deploy(world.alice, { repo: 'alice/site', env: { GREETING: 'hello' } });
    const done = await world.waitFor(world.alice, queued.id);
    assert.equal(done.status, 'live', done.error ?? undefined);
    const app = done.app;
    assert.equal(done.url, `https://${app}.${network.appDomain}`);

    // State: the platform's store is DynamoDB, in the tables DynamoStore created.
    const table = await dynamo.send(new DescribeTableCommand({ TableName: `${tablePrefix}deployments` }));
    assert.equal(table.Table?.TableStatus, 'ACTIVE');
    const stored = await world.platform.store.getDeployment(queued.id);
    assert.equal(stored?.status, 'live');
    assert.equal(stored.artifact?.kind, 'tarball');
    const log = await world.logText(world.alice, queued.id);
    assert.match(log, /ECS: creating service \S+ on FARGATE/);
    assert.doesNotMatch(log, /hello/, 'env values are masked in logs');

    // Artifact: in S3 under artifacts/<app>/<commit>/<id>.tar.gz with its sha256.
    const artifact = stored.artifact;
    assert.equal(artifact.kind, 'tarball');
    const key = artifact.key;
    assert.equal(key, `artifacts/${app}/${done.commitSha}/${queued.id}.tar.gz`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(head.Metadata?.sha256, artifact.sha256);

    // ECS: service with the circuit breaker config on its task definition running the artifact in the runner image.
    const svc = await serviceOf(app);
    assert.equal(svc.status, 'ACTIVE');
    // The capacity provider strategy is sent (see the log line); moto does not echo it back.
    assert.equal(svc.status, 'ACTIVE');
    assert.equal(svc.desiredCount, 1);
    const container = await containerOf(must(svc.taskDefinition, 'task definition'));
    assert.equal(container.image, runnerImage);
    const env = envOf(container);
    assert.equal(env.CLOUDSMITH_ARTIFACT_KEY, key);
    assert.equal(env.CLOUDSMITH_ARTIFACT_BUCKET, bucket);
    assert.equal(env.GREETING, 'hello');
    assert.equal(env.PORT, '8080');
    assert.equal(container.logConfiguration?.logDriver, 'awslogs');
    assert.deepEqual(container.command, stored.plan?.start, "the runner runs the plan's start command");

    // Load balancing: target group with the fast health check, host rule on the shared listener.
    const names = ecsNames(app, network.cluster);
    const tg = must(
      (await elb.send(new DescribeTargetGroupsCommand({ Names: [names.targetGroup] }))).TargetGroups?.[0],
      'target group',
    );
    assert.equal(tg.HealthCheckIntervalSeconds, 5);
    assert.equal(tg.HealthyThresholdCount, 2);
    assert.equal(svc.loadBalancers?.[0]?.targetGroupArn, tg.TargetGroupArn);
    const rules = (await elb.send(new DescribeRulesCommand({ ListenerArn: network.listenerArn }))).Rules ?? [];
    const rule = rules.find((r) => r.Actions?.[0]?.TargetGroupArn === tg.TargetGroupArn);
    assert.deepEqual(rule?.Conditions?.[0]?.HostHeaderConfig?.Values ?? rule?.Conditions?.[0]?.Values, [
      `${app}.${network.appDomain}`,
    ]);

    // Autoscaling: the scalable target and both target-tracking policies.
    const targets =
      (
        await scaling.send(
          new DescribeScalableTargetsCommand({ ServiceNamespace: 'ecs', ResourceIds: [names.scalableResource] }),
        )
      ).ScalableTargets ?? [];
    assert.deepEqual([targets.at(0)?.MinCapacity, targets.at(0)?.MaxCapacity], [1, 3]);
    const policies =
      (
        await scaling.send(
          new DescribeScalingPoliciesCommand({ ServiceNamespace: 'ecs', ResourceId: names.scalableResource }),
        )
      ).ScalingPolicies ?? [];
    assert.equal(policies.filter((p) => p.PolicyType === 'TargetTrackingScaling').length, 2);
  });

  it('a second deployment rolls the service to a new revision; rollback returns it to the first revision', async () => {
    const list = (await world.api<DeploymentView[]>(world.alice, 'GET', '/api/deployments?repo=alice/site')).body;
    const first = must(list.at(0), 'first deployment');
    const firstId = first.id;
    const app = first.app;
    const firstRevision = must((await serviceOf(app)).taskDefinition, 'task definition');

    const redeploy = await world.api<DeploymentView>(world.alice, 'POST', `/api/deployments/${firstId}/redeploy`);
    assert.equal(redeploy.status, 202, JSON.stringify(redeploy.body));
    const second = await world.waitFor(world.alice, redeploy.body.id);
    assert.equal(second.status, 'live', second.error ?? undefined);
    const secondRevision = must((await serviceOf(app)).taskDefinition, 'task definition');
    assert.notEqual(secondRevision, firstRevision);
    assert.equal(
      (await world.api<DeploymentView>(world.alice, 'GET', `/api/deployments/${firstId}`)).body.status,
      'superseded',
    );

    const rollback = await world.api<DeploymentView>(world.alice, 'POST', `/api/apps/${app}/rollback`, {
      deploymentId: firstId,
    });
    assert.ok(rollback.status === 202 || rollback.status === 200, JSON.stringify(rollback.body));
    const rolled = await world.waitFor(world.alice, rollback.body.id);
    assert.equal(rolled.status, 'live', rolled.error ?? undefined);
    const svc = await serviceOf(app);
    assert.equal(svc.taskDefinition, firstRevision, 'the service is back on the first task definition revision');
    const firstArtifact = (await world.platform.store.getDeployment(firstId))?.artifact;
    assert.equal(firstArtifact?.kind, 'tarball');
    assert.equal(
      envOf(await containerOf(must(svc.taskDefinition, 'task definition'))).CLOUDSMITH_ARTIFACT_KEY,
      firstArtifact.key,
    );
  });
});

/** The same pipeline with the docker builder: the ECS task definition runs the pushed image itself (no runner image). */
describe('e2e: docker-built image deployed on ECS against moto', function () {
  this.timeout(600_000);
  const endpoint = motoEndpoint();
  const docker = dockerTestEnv();
  let world: World;
  let network: Awaited<ReturnType<typeof createMotoNetwork>>;
  let ecs: ECSClient;

  before(async function () {
    if (!endpoint) missingPeer(this, 'moto', SKIP_MESSAGE);
    if (!docker) missingPeer(this, 'docker', DOCKER_SKIP);
    network = await createMotoNetwork(endpoint);
    ecs = new ECSClient(awsClientConfig(awsSettings(endpoint)));
    world = await World.start({
      env: {
        CLOUDSMITH_STORE: 'dynamodb',
        CLOUDSMITH_ARTIFACTS: 's3',
        CLOUDSMITH_RUNTIME: 'ecs',
        CLOUDSMITH_BUILDER: 'docker',
        CLOUDSMITH_DOCKER_HOST: docker.host,
        CLOUDSMITH_REGISTRY: docker.registry,
        CLOUDSMITH_BASE_IMAGE: docker.baseImage,
        AWS_ENDPOINT_URL: endpoint,
        AWS_REGION: 'us-east-1',
        CLOUDSMITH_S3_BUCKET: uniqueName('cs-e2e-docker-'),
        CLOUDSMITH_DYNAMODB_PREFIX: `${uniqueName('e2e-docker-')}-`,
        CLOUDSMITH_ECS_CLUSTER: network.cluster,
        CLOUDSMITH_ECS_SUBNETS: network.subnets.join(','),
        CLOUDSMITH_ECS_SECURITY_GROUPS: network.securityGroups.join(','),
        CLOUDSMITH_ALB_LISTENER_ARN: network.listenerArn,
        CLOUDSMITH_VPC_ID: network.vpcId,
        CLOUDSMITH_ECS_APP_DOMAIN: network.appDomain,
      },
    });
  });

  after(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
    await world?.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
    ecs?.destroy();
  });

  it('registers a task definition with the image the docker builder pushed', async () => {
    await world.addRepo('alice/site', 'static-site');
    const queued = await world.deploy(world.alice, { repo: 'alice/site' });
    const done = await world.waitFor(world.alice, queued.id);
    assert.equal(done.status, 'live', done.error ?? undefined);
    const stored = await world.platform.store.getDeployment(queued.id);
    assert.equal(stored?.artifact?.kind, 'image');
    const svc = must(
      (await ecs.send(new DescribeServicesCommand({ cluster: network.cluster, services: [done.app] }))).services?.[0],
      'service',
    );
    const taskDefinition = must(svc.taskDefinition, 'task definition');
    const container = must(
      (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition }))).taskDefinition?.containerDefinitions?.[0],
      'container definition',
    );
    const image = must(container.image, 'image');
    assert.ok(image.startsWith(`${must(docker, 'docker settings').registry}/`), image);
    assert.equal(container.command, undefined, 'an image runs its own entrypoint');
  });
});
