import { createHash } from 'node:crypto';
import {
  ApplicationAutoScalingClient,
  DeregisterScalableTargetCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import {
  DeleteServiceCommand,
  DeregisterTaskDefinitionCommand,
  DescribeTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  CreateServiceCommand,
  waitUntilServicesStable,
  type ContainerDefinition,
  type KeyValuePair,
  type Secret,
  type Service,
} from '@aws-sdk/client-ecs';
import {
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeleteRuleCommand,
  DeleteTargetGroupCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { ArtifactRef } from '../../../domain/deployment';
import { errorMessage, UserFacingError } from '../../../domain/errors';
import type { LogFn } from '../../../ports/builder';
import type { Release, ReleaseContext, Runtime } from '../../../ports/runtime';
import type { Config } from '../../../config';
import { awsClientConfig, awsErrorName, isLoopback, type AwsSettings } from '../../aws/clients';

export interface EcsRuntimeOptions extends AwsSettings {
  cluster: string;
  subnets: string[];
  securityGroups: string[];
  /** The shared ALB's HTTPS listener that gets one host-header rule per app. */
  listenerArn: string;
  vpcId: string;
  executionRoleArn?: string;
  taskRoleArn?: string;
  /** Runs tarball artifacts; see Config.aws.ecs.runnerImage. */
  runnerImage?: string;
  /** Bucket the runner image downloads tarballs from. */
  artifactBucket?: string;
  logGroup: string;
  cpu: number;
  memory: number;
  minTasks: number;
  maxTasks: number;
  /** Apps are served at https://<app>.<appDomain>. */
  appDomain: string;
  /** Port the container listens on; handed to the app as PORT. */
  containerPort?: number;
  /** Upper bound for a rollout to become stable before it is rolled back and reported failed. */
  stableTimeoutMs?: number;
  /**
   * An emulator (moto) registers services but never runs tasks: a service is then done once it is ACTIVE with its
   * desired count. Against AWS the real steady-state waiter runs.
   */
  emulator?: boolean;
  /** Target-tracking targets in percent. */
  cpuTargetPercent?: number;
  memoryTargetPercent?: number;
}

const CONTAINER = 'app';
const FINGERPRINT_TAG = 'cloudsmith:fingerprint';
/** How many recent revisions a release compares itself with before registering a new one. */
const REUSE_LOOKBACK = 10;
/** Failed rollouts stop and roll back by themselves; the old tasks keep serving until the new ones pass health checks. */
const DEPLOYMENT_CONFIGURATION = {
  deploymentCircuitBreaker: { enable: true, rollback: true },
  minimumHealthyPercent: 100,
  maximumPercent: 200,
};
const SECRET_ARN = /^arn:aws[a-z-]*:(ssm|secretsmanager):/;
const ECR_IMAGE = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/([^:@]+)(?::([^@]+))?$/;

/** `host:5000/repo:tag` → `host:5000/repo` (a registry port is not a tag). */
function withoutTag(image: string): string {
  return image.replace(/@.*$/, '').replace(/:[^/:]+$/, '');
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/** Everything this runtime creates for an app, named deterministically so a restarted platform finds it again. */
export function ecsNames(app: string, cluster: string) {
  // Target group names: at most 32 characters of letters, digits and hyphens.
  const tg = `cs-${app}`.length <= 32 ? `cs-${app}` : `cs-${app.slice(0, 20)}-${shortHash(app)}`;
  return {
    family: `cloudsmith-${app}`,
    service: app,
    targetGroup: tg,
    scalableResource: `service/${cluster}/${app}`,
    cpuPolicy: `${app}-cpu`,
    memoryPolicy: `${app}-memory`,
  };
}

/** App env → task definition environment, except values that are SSM or Secrets Manager ARNs: those become `secrets`, resolved by ECS at task start. */
export function splitEnv(env: Record<string, string>): { environment: KeyValuePair[]; secrets: Secret[] } {
  const environment: KeyValuePair[] = [];
  const secrets: Secret[] = [];
  for (const [name, value] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (SECRET_ARN.test(value)) secrets.push({ name, valueFrom: value });
    else environment.push({ name, value });
  }
  return { environment, secrets };
}

/**
 * Apps on ECS Fargate behind a shared ALB: per app a task definition revision per release, a Fargate service with the
 * deployment circuit breaker (failed rollouts roll back by themselves), a target group with a fast health check, a
 * host-header rule on the listener, and target-tracking autoscaling on CPU and memory.
 */
export class EcsRuntime implements Runtime {
  readonly name = 'ecs';
  readonly ecs: ECSClient;
  readonly elb: ElasticLoadBalancingV2Client;
  readonly scaling: ApplicationAutoScalingClient;
  readonly ecr: ECRClient;
  readonly logsClient: CloudWatchLogsClient;
  private readonly port: number;

  /** The runtime as configured by CLOUDSMITH_ECS_* / CLOUDSMITH_ALB_LISTENER_ARN / CLOUDSMITH_VPC_ID (Terraform outputs them all). */
  static fromConfig(config: Config): EcsRuntime {
    const ecs = config.aws.ecs;
    const missing = [
      ['CLOUDSMITH_ALB_LISTENER_ARN', ecs.listenerArn],
      ['CLOUDSMITH_VPC_ID', ecs.vpcId],
      ['CLOUDSMITH_ECS_SUBNETS', ecs.subnets.join(',')],
    ].filter(([, v]) => !v);
    if (missing.length)
      throw new Error(`the ECS runtime needs ${missing.map(([k]) => k).join(', ')} (see terraform outputs)`);
    return new EcsRuntime({
      region: config.aws.region,
      endpoint: config.aws.endpoint,
      cluster: ecs.cluster,
      subnets: ecs.subnets,
      securityGroups: ecs.securityGroups,
      listenerArn: ecs.listenerArn!,
      vpcId: ecs.vpcId!,
      executionRoleArn: ecs.executionRoleArn,
      taskRoleArn: ecs.taskRoleArn,
      runnerImage: ecs.runnerImage,
      artifactBucket: config.aws.bucket,
      logGroup: ecs.logGroup,
      cpu: ecs.cpu,
      memory: ecs.memory,
      minTasks: ecs.minTasks,
      maxTasks: ecs.maxTasks,
      appDomain: ecs.appDomain,
      // Fargate rollouts take minutes (image pull, ALB registration); the app health timeout alone is too short.
      stableTimeoutMs: Math.max(config.deploy.healthTimeoutMs, 10 * 60_000),
      emulator: Boolean(config.aws.endpoint && isLoopback(config.aws.endpoint)),
    });
  }

  constructor(private readonly options: EcsRuntimeOptions) {
    const config = awsClientConfig(options);
    this.ecs = new ECSClient(config);
    this.elb = new ElasticLoadBalancingV2Client(config);
    this.scaling = new ApplicationAutoScalingClient(config);
    this.ecr = new ECRClient(config);
    this.logsClient = new CloudWatchLogsClient(config);
    this.port = options.containerPort ?? 8080;
  }

  urlFor(app: string): string {
    return `https://${app}.${this.options.appDomain}`;
  }

  async release(release: Release, ctx: ReleaseContext): Promise<{ url: string }> {
    const names = ecsNames(release.app, this.options.cluster);
    const image = await this.resolveImage(release.artifact);
    ctx.log(`ECS: registering task definition ${names.family} with ${image}`);
    const taskDefinitionArn = await this.registerTaskDefinition(release, image);
    const targetGroupArn = await this.ensureTargetGroup(release.app, release.plan.healthPath);
    await this.ensureListenerRule(release.app, targetGroupArn);
    const existing = await this.describeService(names.service);
    const previous = existing?.taskDefinition;
    if (existing) {
      ctx.log(`ECS: rolling ${names.service} from ${previous ?? 'nothing'} to ${taskDefinitionArn}`);
      // The deployment settings ride along, so a service created before they existed gets the circuit breaker too.
      await this.ecs.send(
        new UpdateServiceCommand({
          cluster: this.options.cluster,
          service: names.service,
          taskDefinition: taskDefinitionArn,
          deploymentConfiguration: DEPLOYMENT_CONFIGURATION,
        }),
      );
    } else {
      ctx.log(`ECS: creating Fargate service ${names.service}`);
      await this.createService(release.app, taskDefinitionArn, targetGroupArn);
    }
    await this.ensureScaling(release.app);
    let failure: string | undefined;
    try {
      await this.waitStable(names.service, ctx.signal, ctx.log);
      // Stable is not enough: when the new tasks keep failing, the circuit breaker rolls back and the service
      // settles, stable, on the previous revision.
      const settled = await this.describeService(names.service);
      if (settled?.taskDefinition !== taskDefinitionArn)
        failure = `ECS rolled the service back to ${settled?.taskDefinition ?? 'nothing'}`;
    } catch (err) {
      // A timeout or cancel leaves the rollout half done: put the previous revision back by hand.
      if (previous) await this.updateTaskDefinition(names.service, previous).catch(() => undefined);
      failure = errorMessage(err);
    }
    if (failure) {
      const reason = await this.failureReason(names.service);
      for (const line of (await this.logs(release.app).catch(() => [])).slice(-20)) ctx.log(line, 'runtime');
      throw new UserFacingError(
        `the new release never became healthy on ECS: ${failure}${reason ? ` (${reason})` : ''}; the previous release keeps serving`,
      );
    }
    return { url: this.urlFor(release.app) };
  }

  /** The service outlives the platform process; restoring only re-releases when it is gone. */
  async restore(release: Release, ctx: ReleaseContext): Promise<{ url: string }> {
    const service = await this.describeService(ecsNames(release.app, this.options.cluster).service);
    if (service) return { url: this.urlFor(release.app) };
    return this.release(release, ctx);
  }

  /** Puts the service back on the task definition revision before its current one; returns that revision's ARN. */
  async rollback(app: string, log: LogFn = () => undefined): Promise<string> {
    const names = ecsNames(app, this.options.cluster);
    const service = await this.describeService(names.service);
    if (!service?.taskDefinition) throw new UserFacingError(`app ${app} has no ECS service to roll back`);
    const revisions = await this.listRevisions(names.family);
    const index = revisions.indexOf(service.taskDefinition);
    const target = index > 0 ? revisions[index - 1] : undefined;
    if (!target) throw new UserFacingError(`app ${app} has no earlier task definition to roll back to`);
    log(`ECS: rolling ${names.service} back to ${target}`);
    await this.updateTaskDefinition(names.service, target);
    await this.waitStable(names.service, new AbortController().signal, log);
    return target;
  }

  async logs(app: string): Promise<string[]> {
    try {
      const res = await this.logsClient.send(
        new FilterLogEventsCommand({
          logGroupName: this.options.logGroup,
          logStreamNamePrefix: `${app}/`,
          startTime: Date.now() - 3600_000,
          limit: 200,
        }),
      );
      // The prefix is checked again here: moto ignores logStreamNamePrefix and returns the whole group.
      return (res.events ?? []).filter((e) => e.logStreamName?.startsWith(`${app}/`)).map((e) => e.message ?? '');
    } catch (err) {
      if (awsErrorName(err) === 'ResourceNotFoundException') return [];
      throw err;
    }
  }

  async remove(app: string): Promise<void> {
    const names = ecsNames(app, this.options.cluster);
    try {
      await this.scaling.send(
        new DeregisterScalableTargetCommand({
          ServiceNamespace: 'ecs',
          ResourceId: names.scalableResource,
          ScalableDimension: 'ecs:service:DesiredCount',
        }),
      );
    } catch (err) {
      // "No scalable target found" comes back as a ValidationException.
      if (!['ObjectNotFoundException', 'ValidationException'].includes(awsErrorName(err))) throw err;
    }
    const rule = await this.findRule(app);
    if (rule?.RuleArn) await this.elb.send(new DeleteRuleCommand({ RuleArn: rule.RuleArn }));
    if (await this.describeService(names.service)) {
      await this.ecs.send(
        new DeleteServiceCommand({ cluster: this.options.cluster, service: names.service, force: true }),
      );
    }
    const tg = await this.findTargetGroup(names.targetGroup);
    if (tg) await this.elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg }));
    for (const arn of await this.listRevisions(names.family)) {
      await this.ignoreMissing(this.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn })));
    }
  }

  async close(): Promise<void> {
    for (const client of [this.ecs, this.elb, this.scaling, this.ecr, this.logsClient]) client.destroy();
  }

  // ---- pieces

  /** Image artifacts run as built (pinned to their ECR digest when they live in ECR); tarballs run in the runner image. */
  private async resolveImage(artifact: ArtifactRef): Promise<string> {
    if (artifact.kind === 'tarball') {
      if (!this.options.runnerImage) {
        throw new UserFacingError(
          'the ECS runtime needs a container image: build with the docker builder, or set CLOUDSMITH_ECS_RUNNER_IMAGE to run tarball artifacts',
        );
      }
      return this.options.runnerImage;
    }
    if (artifact.digest) return `${withoutTag(artifact.image)}@${artifact.digest}`;
    const ecr = ECR_IMAGE.exec(artifact.image);
    if (!ecr) return artifact.image;
    const [, registryId, , repositoryName, tag = 'latest'] = ecr;
    try {
      const res = await this.ecr.send(
        new DescribeImagesCommand({ registryId, repositoryName, imageIds: [{ imageTag: tag }] }),
      );
      const digest = res.imageDetails?.[0]?.imageDigest;
      return digest ? `${withoutTag(artifact.image)}@${digest}` : artifact.image;
    } catch (err) {
      const name = awsErrorName(err);
      if (name === 'ImageNotFoundException' || name === 'RepositoryNotFoundException') {
        throw new UserFacingError(`image ${artifact.image} is not in ECR (${name})`);
      }
      throw err;
    }
  }

  /**
   * Registers the release's task definition, or reuses an ACTIVE revision with the same content (a rollback to an
   * earlier artifact, a redeploy of the same commit): the service then moves back to that exact revision. Content is
   * compared by a fingerprint tag, since ECS echoes definitions back with defaults filled in.
   */
  private async registerTaskDefinition(release: Release, image: string): Promise<string> {
    const names = ecsNames(release.app, this.options.cluster);
    const env: Record<string, string> = { ...release.env, PORT: String(this.port) };
    if (release.artifact.kind === 'tarball') {
      env.CLOUDSMITH_ARTIFACT_BUCKET = this.options.artifactBucket ?? '';
      env.CLOUDSMITH_ARTIFACT_KEY = release.artifact.key;
      env.CLOUDSMITH_ARTIFACT_SHA256 = release.artifact.sha256;
      env.CLOUDSMITH_WORKDIR = release.plan.workdir;
    }
    const { environment, secrets } = splitEnv(env);
    const container: ContainerDefinition = {
      name: CONTAINER,
      image,
      essential: true,
      // Tarballs run their plan's start argv inside the runner; images carry their own entrypoint.
      command: release.artifact.kind === 'tarball' ? release.plan.start : undefined,
      portMappings: [{ containerPort: this.port, protocol: 'tcp' }],
      environment,
      secrets: secrets.length ? secrets : undefined,
      logConfiguration: {
        logDriver: 'awslogs',
        options: {
          'awslogs-group': this.options.logGroup,
          'awslogs-region': this.options.region,
          'awslogs-stream-prefix': release.app,
        },
      },
    };
    const shape = {
      cpu: String(this.options.cpu),
      memory: String(this.options.memory),
      executionRoleArn: this.options.executionRoleArn,
      taskRoleArn: this.options.taskRoleArn,
    };
    const fingerprint = createHash('sha256').update(JSON.stringify({ container, shape })).digest('hex').slice(0, 32);
    const existing = await this.findRevision(names.family, fingerprint);
    if (existing) return existing;
    const res = await this.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: names.family,
        networkMode: 'awsvpc',
        requiresCompatibilities: ['FARGATE'],
        ...shape,
        containerDefinitions: [container],
        tags: [
          { key: 'cloudsmith:app', value: release.app },
          { key: 'cloudsmith:deployment', value: release.deploymentId },
          { key: FINGERPRINT_TAG, value: fingerprint },
        ],
      }),
    );
    const arn = res.taskDefinition?.taskDefinitionArn;
    if (!arn) throw new Error(`ECS registered no task definition for ${names.family}`);
    return arn;
  }

  /** The newest ACTIVE revision (of the last few) carrying `fingerprint`. */
  private async findRevision(family: string, fingerprint: string): Promise<string | undefined> {
    const recent = (await this.listRevisions(family)).slice(-REUSE_LOOKBACK).reverse();
    for (const arn of recent) {
      const res = await this.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn, include: ['TAGS'] }));
      if (res.tags?.some((t) => t.key === FINGERPRINT_TAG && t.value === fingerprint)) return arn;
    }
    return undefined;
  }

  private async ensureTargetGroup(app: string, healthPath: string): Promise<string> {
    const name = ecsNames(app, this.options.cluster).targetGroup;
    const health = {
      HealthCheckPath: healthPath || '/',
      // The ALB defaults (30 s interval, 5 healthy checks, 300 s deregistration) add minutes to every deploy.
      HealthCheckIntervalSeconds: 5,
      HealthCheckTimeoutSeconds: 4,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 3,
      // The platform's health rule everywhere: any status below 500 means the app is up.
      Matcher: { HttpCode: '200-499' },
    };
    let arn = await this.findTargetGroup(name);
    if (arn) {
      await this.elb.send(new ModifyTargetGroupCommand({ TargetGroupArn: arn, ...health }));
    } else {
      const res = await this.elb.send(
        new CreateTargetGroupCommand({
          Name: name,
          Protocol: 'HTTP',
          Port: this.port,
          VpcId: this.options.vpcId,
          TargetType: 'ip',
          HealthCheckProtocol: 'HTTP',
          ...health,
          Tags: [{ Key: 'cloudsmith:app', Value: app }],
        }),
      );
      arn = res.TargetGroups?.[0]?.TargetGroupArn;
      if (!arn) throw new Error(`ELBv2 created no target group ${name}`);
    }
    await this.elb.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: arn,
        Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '5' }],
      }),
    );
    return arn;
  }

  private async ensureListenerRule(app: string, targetGroupArn: string): Promise<void> {
    const existing = await this.findRule(app);
    if (existing) return;
    // Priorities are unique per listener; two platforms adding rules at once can collide, so retry with the next one.
    for (let attempt = 0; attempt < 5; attempt++) {
      const rules = await this.listRules();
      const used = new Set(rules.map((r) => Number(r.Priority)).filter(Number.isFinite));
      let priority = 1;
      while (used.has(priority)) priority++;
      try {
        await this.elb.send(
          new CreateRuleCommand({
            ListenerArn: this.options.listenerArn,
            Priority: priority,
            Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: [this.host(app)] } }],
            Actions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }],
            Tags: [{ Key: 'cloudsmith:app', Value: app }],
          }),
        );
        return;
      } catch (err) {
        if (awsErrorName(err) !== 'PriorityInUseException') throw err;
      }
    }
    throw new Error(`could not find a free listener rule priority for ${app}`);
  }

  private async createService(app: string, taskDefinition: string, targetGroupArn: string): Promise<void> {
    const names = ecsNames(app, this.options.cluster);
    await this.ecs.send(
      new CreateServiceCommand({
        cluster: this.options.cluster,
        serviceName: names.service,
        taskDefinition,
        desiredCount: this.options.minTasks,
        launchType: 'FARGATE',
        networkConfiguration: {
          awsvpcConfiguration: {
            subnets: this.options.subnets,
            securityGroups: this.options.securityGroups,
            assignPublicIp: 'DISABLED',
          },
        },
        loadBalancers: [{ targetGroupArn, containerName: CONTAINER, containerPort: this.port }],
        healthCheckGracePeriodSeconds: 15,
        deploymentConfiguration: DEPLOYMENT_CONFIGURATION,
        propagateTags: 'SERVICE',
        tags: [{ key: 'cloudsmith:app', value: app }],
      }),
    );
  }

  private async ensureScaling(app: string): Promise<void> {
    const names = ecsNames(app, this.options.cluster);
    const target = {
      ServiceNamespace: 'ecs' as const,
      ResourceId: names.scalableResource,
      ScalableDimension: 'ecs:service:DesiredCount' as const,
    };
    await this.scaling.send(
      new RegisterScalableTargetCommand({
        ...target,
        MinCapacity: this.options.minTasks,
        MaxCapacity: this.options.maxTasks,
      }),
    );
    const policies = [
      {
        PolicyName: names.cpuPolicy,
        metric: 'ECSServiceAverageCPUUtilization' as const,
        value: this.options.cpuTargetPercent ?? 60,
      },
      {
        PolicyName: names.memoryPolicy,
        metric: 'ECSServiceAverageMemoryUtilization' as const,
        value: this.options.memoryTargetPercent ?? 75,
      },
    ];
    for (const p of policies) {
      await this.scaling.send(
        new PutScalingPolicyCommand({
          ...target,
          PolicyName: p.PolicyName,
          PolicyType: 'TargetTrackingScaling',
          TargetTrackingScalingPolicyConfiguration: {
            TargetValue: p.value,
            PredefinedMetricSpecification: { PredefinedMetricType: p.metric },
            ScaleInCooldown: 60,
            ScaleOutCooldown: 30,
          },
        }),
      );
    }
  }

  private async waitStable(service: string, signal: AbortSignal, log: LogFn): Promise<void> {
    const timeoutMs = this.options.stableTimeoutMs ?? 10 * 60_000;
    if (this.options.emulator) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (signal.aborted) throw new Error('cancelled');
        const s = await this.describeService(service);
        if (s?.status === 'ACTIVE' && (s.desiredCount ?? 0) >= this.options.minTasks) break;
        if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)}s`);
        await new Promise((r) => setTimeout(r, 250));
      }
      log(`ECS: service ${service} is ACTIVE (emulator: tasks are not run)`);
      return;
    }
    log(`ECS: waiting up to ${Math.round(timeoutMs / 1000)}s for ${service} to reach a steady state`);
    await waitUntilServicesStable(
      { client: this.ecs, maxWaitTime: Math.ceil(timeoutMs / 1000), minDelay: 5, maxDelay: 15, abortSignal: signal },
      { cluster: this.options.cluster, services: [service] },
    );
    log(`ECS: service ${service} is stable`);
  }

  /** The last service events and stopped tasks' reasons: what a user needs to see when a rollout fails. */
  private async failureReason(service: string): Promise<string> {
    try {
      const s = await this.describeService(service);
      const events = (s?.events ?? [])
        .slice(0, 3)
        .map((e) => e.message)
        .filter(Boolean);
      const stopped = await this.ecs.send(
        new ListTasksCommand({ cluster: this.options.cluster, serviceName: service, desiredStatus: 'STOPPED' }),
      );
      const arns = (stopped.taskArns ?? []).slice(0, 3);
      const reasons: string[] = [];
      if (arns.length) {
        const tasks = await this.ecs.send(new DescribeTasksCommand({ cluster: this.options.cluster, tasks: arns }));
        for (const t of tasks.tasks ?? []) if (t.stoppedReason) reasons.push(t.stoppedReason);
      }
      return [...reasons, ...events].join('; ');
    } catch {
      return '';
    }
  }

  private async updateTaskDefinition(service: string, taskDefinition: string): Promise<void> {
    await this.ecs.send(new UpdateServiceCommand({ cluster: this.options.cluster, service, taskDefinition }));
  }

  private async describeService(service: string): Promise<Service | undefined> {
    const res = await this.ecs.send(
      new DescribeServicesCommand({ cluster: this.options.cluster, services: [service] }),
    );
    const found = res.services?.find((s) => s.serviceName === service);
    return found && found.status !== 'INACTIVE' ? found : undefined;
  }

  /** ACTIVE revisions of a family, oldest first. */
  private async listRevisions(family: string): Promise<string[]> {
    const out: string[] = [];
    let nextToken: string | undefined;
    do {
      const res = await this.ecs.send(
        new ListTaskDefinitionsCommand({ familyPrefix: family, status: 'ACTIVE', sort: 'ASC', nextToken }),
      );
      // familyPrefix matches prefixes: keep only this exact family.
      out.push(
        ...(res.taskDefinitionArns ?? []).filter((arn) => arn.split('/').pop()?.replace(/:\d+$/, '') === family),
      );
      nextToken = res.nextToken;
    } while (nextToken);
    const revision = (arn: string) => Number(arn.split(':').pop());
    return out.sort((a, b) => revision(a) - revision(b));
  }

  private async findTargetGroup(name: string): Promise<string | undefined> {
    try {
      const res = await this.elb.send(new DescribeTargetGroupsCommand({ Names: [name] }));
      return res.TargetGroups?.[0]?.TargetGroupArn;
    } catch (err) {
      if (awsErrorName(err) === 'TargetGroupNotFoundException') return undefined;
      throw err;
    }
  }

  private async listRules(): Promise<Rule[]> {
    const out: Rule[] = [];
    let marker: string | undefined;
    do {
      const res = await this.elb.send(
        new DescribeRulesCommand({ ListenerArn: this.options.listenerArn, Marker: marker }),
      );
      out.push(...(res.Rules ?? []));
      marker = res.NextMarker;
    } while (marker);
    return out;
  }

  private async findRule(app: string): Promise<Rule | undefined> {
    const host = this.host(app);
    return (await this.listRules()).find((r) =>
      (r.Conditions ?? []).some(
        (c) => c.Field === 'host-header' && ((c.HostHeaderConfig?.Values ?? c.Values ?? []) as string[]).includes(host),
      ),
    );
  }

  private host(app: string): string {
    return `${app}.${this.options.appDomain}`;
  }

  private async ignoreMissing(p: Promise<unknown>): Promise<void> {
    try {
      await p;
    } catch (err) {
      // Deregistering a revision that is already inactive is a ClientException.
      if (awsErrorName(err) !== 'ClientException') throw err;
    }
  }
}
