import assert from 'node:assert/strict';
import {
  ApplicationAutoScalingClient,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
} from '@aws-sdk/client-application-auto-scaling';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
} from '@aws-sdk/client-ecs';
import {
  DescribeRulesCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { awsClientConfig } from '../../src/adapters/aws/clients';
import { EcsRuntime, ecsNames, type EcsRuntimeOptions } from '../../src/adapters/runtime/ecs/ecsRuntime';
import type { RunPlan } from '../../src/domain/deployment';
import type { Release, RuntimeOutput } from '../../src/ports/runtime';
import { awsSettings, createMotoNetwork, motoEndpoint, must, SKIP_MESSAGE, uniqueName } from './motoEnv';
import { missingPeer } from '../peers';

const plan: RunPlan = { kind: 'node', start: ['npm', 'start'], workdir: '.', healthPath: '/healthz' };
const ctx = { signal: new AbortController().signal, log: (_text: string) => undefined };

function release(app: string, tag: string, deploymentId: string): Release {
  return {
    app,
    deploymentId,
    artifact: { kind: 'image', image: `registry.example.test/${app}:${tag}` },
    plan,
    env: { GREETING: 'hi', DB_PASSWORD: 'arn:aws:ssm:us-east-1:123456789012:parameter/cloudsmith/db' },
  };
}

describe('EcsRuntime against moto (AWS state asserted; moto does not run tasks)', function () {
  const endpoint = motoEndpoint();
  let options: EcsRuntimeOptions;
  let runtime: EcsRuntime;
  let ecs: ECSClient;
  let elb: ElasticLoadBalancingV2Client;
  let scaling: ApplicationAutoScalingClient;
  let config: ReturnType<typeof awsClientConfig>;
  const app = uniqueName('ecs-');
  let firstRevision = '';

  before(async function () {
    if (!endpoint) missingPeer(this, 'moto', SKIP_MESSAGE);
    const network = await createMotoNetwork(endpoint);
    options = { ...awsSettings(endpoint), ...network };
    runtime = new EcsRuntime(options);
    config = awsClientConfig(awsSettings(endpoint));
    ecs = new ECSClient(config);
    elb = new ElasticLoadBalancingV2Client(config);
    scaling = new ApplicationAutoScalingClient(config);
  });

  after(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the hook that sets it failed
    await runtime?.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the hook that sets it failed
    ecs?.destroy();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the hook that sets it failed
    elb?.destroy();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the hook that sets it failed
    scaling?.destroy();
  });

  it('release creates a task definition, a Fargate service with the circuit breaker, a fast target group, a host rule and autoscaling', async () => {
    const { url } = await runtime.release(release(app, 'v1', 'dep-1'), ctx);
    assert.equal(url, `https://${app}.${options.appDomain}`);
    assert.equal(runtime.urlFor(app), url);
    const names = ecsNames(app, options.cluster);

    const svc = must(
      (await ecs.send(new DescribeServicesCommand({ cluster: options.cluster, services: [names.service] })))
        .services?.[0],
      'service',
    );
    assert.equal(svc.status, 'ACTIVE');
    // The capacity provider strategy is sent (see the log line); moto does not echo it back.
    assert.equal(svc.status, 'ACTIVE');
    assert.equal(svc.desiredCount, options.minTasks);
    assert.deepEqual(svc.networkConfiguration?.awsvpcConfiguration?.subnets, options.subnets);

    firstRevision = must(svc.taskDefinition, 'task definition');
    const td = must(
      (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: firstRevision }))).taskDefinition,
      'task definition',
    );
    assert.equal(td.family, names.family);
    assert.equal(td.networkMode, 'awsvpc');
    assert.deepEqual(td.requiresCompatibilities, ['FARGATE', 'EC2']);
    assert.equal(td.cpu, '256');
    assert.equal(td.memory, '512');
    const container = must(td.containerDefinitions?.[0], 'container definition');
    assert.equal(container.image, `registry.example.test/${app}:v1`);
    assert.equal(must(container.portMappings?.[0], 'port mapping').containerPort, 8080);
    assert.deepEqual(
      must(container.environment, 'environment').map((e) => [e.name, e.value]),
      [
        ['GREETING', 'hi'],
        ['PORT', '8080'],
      ],
    );
    assert.deepEqual(container.secrets, [
      { name: 'DB_PASSWORD', valueFrom: 'arn:aws:ssm:us-east-1:123456789012:parameter/cloudsmith/db' },
    ]);
    assert.equal(container.logConfiguration?.logDriver, 'awslogs');
    assert.equal(container.logConfiguration.options?.['awslogs-group'], options.logGroup);
    assert.equal(container.logConfiguration.options['awslogs-stream-prefix'], app);

    const tg = must(
      (await elb.send(new DescribeTargetGroupsCommand({ Names: [names.targetGroup] }))).TargetGroups?.[0],
      'target group',
    );
    assert.equal(tg.HealthCheckPath, '/healthz');
    assert.equal(tg.HealthCheckIntervalSeconds, 5);
    assert.equal(tg.HealthyThresholdCount, 2);
    assert.equal(tg.TargetType, 'ip');
    assert.equal(tg.VpcId, options.vpcId);
    assert.equal(must(svc.loadBalancers?.[0], 'load balancer').targetGroupArn, tg.TargetGroupArn);
    const attrs = must(
      (await elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: tg.TargetGroupArn }))).Attributes,
      'target group attributes',
    );
    assert.equal(attrs.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value, '5');

    const rules = must(
      (await elb.send(new DescribeRulesCommand({ ListenerArn: options.listenerArn }))).Rules,
      'listener rules',
    );
    const rule = rules.find((r) => r.Conditions?.some((c) => c.Field === 'host-header'));
    assert.ok(rule, 'a host-header rule exists');
    const condition = must(rule.Conditions?.[0], 'rule condition');
    const hosts = condition.HostHeaderConfig?.Values ?? condition.Values;
    assert.deepEqual(hosts, [`${app}.${options.appDomain}`]);
    assert.equal(must(rule.Actions?.[0], 'rule action').TargetGroupArn, tg.TargetGroupArn);

    const targets = must(
      (
        await scaling.send(
          new DescribeScalableTargetsCommand({ ServiceNamespace: 'ecs', ResourceIds: [names.scalableResource] }),
        )
      ).ScalableTargets,
      'scalable targets',
    );
    assert.equal(targets.length, 1);
    assert.equal(targets[0].MinCapacity, options.minTasks);
    assert.equal(targets[0].MaxCapacity, options.maxTasks);
    const policies = must(
      (
        await scaling.send(
          new DescribeScalingPoliciesCommand({ ServiceNamespace: 'ecs', ResourceId: names.scalableResource }),
        )
      ).ScalingPolicies,
      'scaling policies',
    );
    assert.deepEqual(
      policies
        .map((p) => [
          p.PolicyType,
          p.TargetTrackingScalingPolicyConfiguration?.PredefinedMetricSpecification?.PredefinedMetricType,
        ])
        .sort(),
      [
        ['TargetTrackingScaling', 'ECSServiceAverageCPUUtilization'],
        ['TargetTrackingScaling', 'ECSServiceAverageMemoryUtilization'],
      ],
    );
  });

  it('a second release registers a new revision and rollback returns the service to the previous one', async () => {
    const names = ecsNames(app, options.cluster);
    await runtime.release(release(app, 'v2', 'dep-2'), ctx);
    const svc = must(
      (await ecs.send(new DescribeServicesCommand({ cluster: options.cluster, services: [names.service] })))
        .services?.[0],
      'service',
    );
    const revision = (arn: string) => Number(arn.split(':').pop());
    assert.equal(revision(must(svc.taskDefinition, 'task definition')), revision(firstRevision) + 1);
    // moto drops deploymentConfiguration on CreateService but keeps what UpdateService sets, so the breaker is asserted here.
    assert.deepEqual(svc.deploymentConfiguration?.deploymentCircuitBreaker, { enable: true, rollback: true });
    const rules = must(
      (await elb.send(new DescribeRulesCommand({ ListenerArn: options.listenerArn }))).Rules,
      'listener rules',
    );
    assert.equal(
      rules.filter((r) => r.Conditions?.some((c) => c.Field === 'host-header')).length,
      1,
      'the host rule is reused, not duplicated',
    );

    const previous = await runtime.rollback(app);
    assert.equal(previous, firstRevision);
    const after = must(
      (await ecs.send(new DescribeServicesCommand({ cluster: options.cluster, services: [names.service] })))
        .services?.[0],
      'service',
    );
    assert.equal(after.taskDefinition, previous);
    const td = must(
      (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: after.taskDefinition }))).taskDefinition,
      'task definition',
    );
    assert.equal(must(td.containerDefinitions?.[0], 'container definition').image, `registry.example.test/${app}:v1`);
  });

  it('releasing content identical to an earlier revision reuses that revision instead of registering a new one', async () => {
    const names = ecsNames(app, options.cluster);
    const before = must(
      (await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: names.family }))).taskDefinitionArns,
      'task definition list',
    );
    await runtime.release(release(app, 'v2', 'dep-2-again'), ctx);
    const after = must(
      (await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: names.family }))).taskDefinitionArns,
      'task definition list',
    );
    assert.deepEqual(after, before, 'no new revision');
    const svc = must(
      (await ecs.send(new DescribeServicesCommand({ cluster: options.cluster, services: [names.service] })))
        .services?.[0],
      'service',
    );
    assert.equal(svc.taskDefinition, before[before.length - 1], 'the service is back on the v2 revision');
  });

  it('re-releasing an earlier artifact (a rollback) restores the revision that ran it: image, command and env as they were', async () => {
    const names = ecsNames(app, options.cluster);
    const v1 = release(app, 'v1', 'dep-rollback');
    // The app's env changed since v1 ran; a rollback still brings back v1 exactly as it ran.
    v1.env = { GREETING: 'changed since' };
    const logged: string[] = [];
    await runtime.release(v1, { ...ctx, log: (text: string) => logged.push(text) });
    const svc = must(
      (await ecs.send(new DescribeServicesCommand({ cluster: options.cluster, services: [names.service] })))
        .services?.[0],
      'service',
    );
    assert.equal(svc.taskDefinition, firstRevision);
    const td = must(
      (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: svc.taskDefinition }))).taskDefinition,
      'task definition',
    );
    const container = must(td.containerDefinitions?.[0], 'container definition');
    assert.equal(container.image, `registry.example.test/${app}:v1`);
    assert.equal(container.environment?.find((e) => e.name === 'GREETING')?.value, 'hi');
    assert.match(logged.join('\n'), /restoring that revision as it was/);
  });

  it('puts each app on its capacity: the default, or its own (Fargate Spot, the EC2 Auto Scaling group provider)', async () => {
    const spot = uniqueName('spot-');
    const perApp = new EcsRuntime({ ...options, capacity: 'FARGATE_SPOT', appCapacity: { [app]: 'cloudsmith-ec2' } });
    try {
      assert.deepEqual(perApp.capacity(app), [{ capacityProvider: 'cloudsmith-ec2', weight: 1, base: 0 }]);
      const logged: string[] = [];
      await perApp.release(release(spot, 'v1', 'dep-spot'), { ...ctx, log: (text: string) => logged.push(text) });
      assert.match(logged.join('\n'), new RegExp(`creating service ${spot} on FARGATE_SPOT`));
      // One definition runs on every capacity.
      const svc = must(
        (await ecs.send(new DescribeServicesCommand({ cluster: options.cluster, services: [spot] }))).services?.[0],
        'service',
      );
      const td = must(
        (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: svc.taskDefinition }))).taskDefinition,
        'task definition',
      );
      assert.deepEqual(td.requiresCompatibilities, ['FARGATE', 'EC2']);
      await perApp.remove(spot);
    } finally {
      await perApp.close();
    }
  });

  it('a rollout that does not finish (cancelled here) puts the service back on the previous revision and says so', async () => {
    const names = ecsNames(app, options.cluster);
    const before = must(
      (await ecs.send(new DescribeServicesCommand({ cluster: options.cluster, services: [names.service] })))
        .services?.[0],
      'service',
    ).taskDefinition;
    const cancelled = new AbortController();
    cancelled.abort();
    await assert.rejects(
      runtime.release(release(app, 'v3-broken', 'dep-3'), { signal: cancelled.signal, log: () => undefined }),
      /never became healthy on ECS: cancelled.*previous release keeps serving/,
    );
    const after = must(
      (await ecs.send(new DescribeServicesCommand({ cluster: options.cluster, services: [names.service] })))
        .services?.[0],
      'service',
    ).taskDefinition;
    assert.equal(after, before);
  });

  /** Writes lines into a new stream of the runtime's log group (made if missing), as the awslogs driver would. */
  async function putLogEvents(logs: CloudWatchLogsClient, stream: string, messages: string[]): Promise<void> {
    await logs.send(new CreateLogGroupCommand({ logGroupName: options.logGroup })).catch((err: unknown) => {
      if (!(err instanceof Error) || err.name !== 'ResourceAlreadyExistsException') throw err;
    });
    await logs.send(new CreateLogStreamCommand({ logGroupName: options.logGroup, logStreamName: stream }));
    const at = Date.now();
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: options.logGroup,
        logStreamName: stream,
        logEvents: messages.map((message, i) => ({ timestamp: at + i, message })),
      }),
    );
  }

  it("reads the app's runtime output from its CloudWatch log streams", async () => {
    const logs = new CloudWatchLogsClient(config);
    try {
      await putLogEvents(logs, `${app}/app/0123456789abcdef`, ['listening on 8080', 'GET / 200']);
      assert.deepEqual(await runtime.logs(app), ['listening on 8080', 'GET / 200']);
      assert.deepEqual(await runtime.logs('no-such-app'), []);
    } finally {
      logs.destroy();
    }
  });

  it("follows the live app's CloudWatch streams into its runtime log", async () => {
    const tailing = new EcsRuntime({ ...options, logPollMs: 100 });
    const logs = new CloudWatchLogsClient(config);
    const output: RuntimeOutput[] = [];
    try {
      // The service exists (released above): restoring it only starts following its streams.
      await tailing.restore(release(app, 'v1', 'd-tail'), { ...ctx, onOutput: (line) => output.push(line) });
      await putLogEvents(logs, `${app}/app/feedface0000`, ['tailed line 1', 'tailed line 2']);
      const deadline = Date.now() + 30_000;
      while (!output.some((l) => l.text === 'tailed line 2') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      const tailed = output.filter((l) => l.text.startsWith('tailed line'));
      assert.deepEqual(
        tailed.map((l) => [l.stream, l.text]),
        [
          ['stdout', 'tailed line 1'],
          ['stdout', 'tailed line 2'],
        ],
        'each line once, in order',
      );
    } finally {
      await tailing.close();
      logs.destroy();
    }
  });

  it('a tarball artifact needs the runner image, and is refused with a clear reason without one', async () => {
    await assert.rejects(
      runtime.release(
        {
          ...release('ecs-tarball', 'v1', 'dep-3'),
          artifact: { kind: 'tarball', key: 'artifacts/x/y/z.tar.gz', sha256: 'ab', size: 1 },
        },
        ctx,
      ),
      /CLOUDSMITH_ECS_RUNNER_IMAGE/,
    );
  });

  it('remove deletes the rule, target group, service and scaling target', async () => {
    const names = ecsNames(app, options.cluster);
    await runtime.remove(app);
    const rules = must(
      (await elb.send(new DescribeRulesCommand({ ListenerArn: options.listenerArn }))).Rules,
      'listener rules',
    );
    assert.equal(rules.filter((r) => r.Conditions?.some((c) => c.Field === 'host-header')).length, 0);
    await assert.rejects(
      elb.send(new DescribeTargetGroupsCommand({ Names: [names.targetGroup] })),
      /TargetGroupNotFound|not found/i,
    );
    const svc =
      (await ecs.send(new DescribeServicesCommand({ cluster: options.cluster, services: [names.service] }))).services ??
      [];
    assert.ok(
      svc.every((s) => s.status !== 'ACTIVE'),
      'the service is gone',
    );
    const targets = must(
      (
        await scaling.send(
          new DescribeScalableTargetsCommand({ ServiceNamespace: 'ecs', ResourceIds: [names.scalableResource] }),
        )
      ).ScalableTargets,
      'scalable targets',
    );
    assert.equal(targets.length, 0);
    await runtime.remove(app);
  });
});
