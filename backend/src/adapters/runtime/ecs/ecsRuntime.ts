import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { ECRClient } from '@aws-sdk/client-ecr';
import { CreateServiceCommand, DeleteServiceCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { errorMessage, UserFacingError } from '../../../domain/errors';
import type { ArtifactStore } from '../../../ports/artifacts';
import type { LogFn } from '../../../ports/builder';
import type { Release, ReleaseContext, Runtime } from '../../../ports/runtime';
import { awsClientConfig, awsErrorName } from '../../aws/clients';
import { LoadBalancerRules } from './loadBalancer';
import { CloudWatchTail } from './logTail';
import { CONTAINER, ecsNames } from './names';
import type { EcsRuntimeOptions } from './options';
import { ServiceScaling } from './scaling';
import { ServiceWatch } from './stability';
import { TaskDefinitions } from './taskDefinitions';

export type { EcsRuntimeOptions } from './options';
export { ecsNames } from './names';
export { splitEnv } from './taskDefinitions';

/** Failed rollouts stop and roll back by themselves; the old tasks keep serving until the new ones pass health checks. */
const DEPLOYMENT_CONFIGURATION = {
  deploymentCircuitBreaker: { enable: true, rollback: true },
  minimumHealthyPercent: 100,
  maximumPercent: 200,
};

/**
 * Apps on ECS behind a shared ALB: per app a task definition revision per release (taskDefinitions.ts), a service
 * with the deployment circuit breaker (failed rollouts roll back by themselves), a target group and a host-header
 * rule on the listener (loadBalancer.ts), target-tracking autoscaling on CPU and memory (scaling.ts) and the wait
 * for a steady state (stability.ts). This file sequences those jobs into a release, a rollback and a removal.
 */
export class EcsRuntime implements Runtime {
  readonly name = 'ecs';
  readonly ecs: ECSClient;
  readonly elb: ElasticLoadBalancingV2Client;
  readonly scaling: ApplicationAutoScalingClient;
  readonly ecr: ECRClient;
  readonly logsClient: CloudWatchLogsClient;
  private readonly port: number;
  private readonly taskDefinitions: TaskDefinitions;
  private readonly loadBalancer: LoadBalancerRules;
  private readonly autoscaling: ServiceScaling;
  private readonly watch: ServiceWatch;
  private readonly tails = new Map<string, CloudWatchTail>();

  /** `artifacts` is where tarball artifacts are read from to bake them into an app image (options.appRepository). */
  constructor(
    private readonly options: EcsRuntimeOptions,
    artifacts?: ArtifactStore,
  ) {
    const config = awsClientConfig(options);
    this.ecs = new ECSClient(config);
    this.elb = new ElasticLoadBalancingV2Client(config);
    this.scaling = new ApplicationAutoScalingClient(config);
    this.ecr = new ECRClient(config);
    this.logsClient = new CloudWatchLogsClient(config);
    this.port = options.containerPort ?? 8080;
    this.taskDefinitions = new TaskDefinitions(this.ecs, this.ecr, options, this.port, artifacts);
    this.loadBalancer = new LoadBalancerRules(this.elb, options, this.port);
    this.autoscaling = new ServiceScaling(this.scaling, options);
    this.watch = new ServiceWatch(this.ecs, options);
  }

  urlFor(app: string): string {
    return `https://${this.loadBalancer.host(app)}`;
  }

  async release(release: Release, ctx: ReleaseContext): Promise<{ url: string }> {
    const names = ecsNames(release.app, this.options.cluster);
    const taskDefinitionArn = await this.taskDefinitions.forRelease(release, (line) => {
      ctx.log(line);
    });
    const targetGroupArn = await this.loadBalancer.ensure(release.app, release.plan.healthPath);
    const existing = await this.watch.describe(names.service);
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
          // A capacity change moves the tasks on this very rollout.
          capacityProviderStrategy: this.capacity(release.app),
        }),
      );
    } else {
      ctx.log(`ECS: creating service ${names.service} on ${this.capacity(release.app)[0].capacityProvider}`);
      await this.createService(release.app, taskDefinitionArn, targetGroupArn);
    }
    await this.autoscaling.ensure(release.app);
    let failure: string | undefined;
    try {
      await this.watch.waitStable(names.service, ctx.signal, ctx.log);
      // Stable is not enough: when the new tasks keep failing, the circuit breaker rolls back and the service
      // settles, stable, on the previous revision.
      const settled = await this.watch.describe(names.service);
      if (settled?.taskDefinition !== taskDefinitionArn)
        failure = `ECS rolled the service back to ${settled?.taskDefinition ?? 'nothing'}`;
    } catch (err) {
      // A timeout or cancel leaves the rollout half done: put the previous revision back by hand.
      if (previous) await this.updateTaskDefinition(names.service, previous).catch(() => undefined);
      failure = errorMessage(err);
    }
    if (failure) {
      const reason = await this.watch.failureReason(names.service);
      for (const line of (await this.logs(release.app).catch(() => [])).slice(-20)) ctx.log(line, 'runtime');
      throw new UserFacingError(
        `the new release never became healthy on ECS: ${failure}${reason ? ` (${reason})` : ''}; the previous release keeps serving`,
      );
    }
    ctx.onOutput?.({ stream: 'event', event: 'started', text: `started on ECS (${taskDefinitionArn})` });
    this.tail(release.app, ctx);
    return { url: this.urlFor(release.app) };
  }

  /** The service outlives the platform process; restoring only re-releases when it is gone. */
  async restore(release: Release, ctx: ReleaseContext): Promise<{ url: string }> {
    const service = await this.watch.describe(ecsNames(release.app, this.options.cluster).service);
    if (!service) return this.release(release, ctx);
    this.tail(release.app, ctx);
    return { url: this.urlFor(release.app) };
  }

  /** Follows the app's CloudWatch streams into the live release's runtime log, replacing an earlier release's tail. */
  private tail(app: string, ctx: ReleaseContext): void {
    this.tails.get(app)?.stop();
    this.tails.delete(app);
    if (!ctx.onOutput) return;
    const tail = new CloudWatchTail(
      this.logsClient,
      this.options.logGroup,
      app,
      ctx.onOutput,
      this.options.logPollMs ?? 5_000,
    );
    this.tails.set(app, tail);
    tail.start();
  }

  /** Puts the service back on the task definition revision before its current one; returns that revision's ARN. */
  async rollback(app: string, log: LogFn = () => undefined): Promise<string> {
    const names = ecsNames(app, this.options.cluster);
    const service = await this.watch.describe(names.service);
    if (!service?.taskDefinition) throw new UserFacingError(`app ${app} has no ECS service to roll back`);
    const revisions = await this.taskDefinitions.listRevisions(names.family);
    const index = revisions.indexOf(service.taskDefinition);
    const target = index > 0 ? revisions[index - 1] : undefined;
    if (!target) throw new UserFacingError(`app ${app} has no earlier task definition to roll back to`);
    log(`ECS: rolling ${names.service} back to ${target}`);
    await this.updateTaskDefinition(names.service, target);
    await this.watch.waitStable(names.service, new AbortController().signal, log);
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
    this.tails.get(app)?.stop();
    this.tails.delete(app);
    const names = ecsNames(app, this.options.cluster);
    await this.autoscaling.remove(app);
    await this.loadBalancer.remove(app);
    if (await this.watch.describe(names.service)) {
      await this.ecs.send(
        new DeleteServiceCommand({ cluster: this.options.cluster, service: names.service, force: true }),
      );
    }
    await this.loadBalancer.removeTargetGroup(app);
    await this.taskDefinitions.removeAll(app);
  }

  async close(): Promise<void> {
    for (const tail of this.tails.values()) tail.stop();
    this.tails.clear();
    for (const client of [this.ecs, this.elb, this.scaling, this.ecr, this.logsClient]) client.destroy();
  }

  private async createService(app: string, taskDefinition: string, targetGroupArn: string): Promise<void> {
    const names = ecsNames(app, this.options.cluster);
    await this.ecs.send(
      new CreateServiceCommand({
        cluster: this.options.cluster,
        serviceName: names.service,
        taskDefinition,
        desiredCount: this.options.minTasks,
        capacityProviderStrategy: this.capacity(app),
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

  /** The app's capacity provider (CLOUDSMITH_ECS_APP_CAPACITY) or the default (CLOUDSMITH_ECS_CAPACITY). */
  capacity(app: string): Array<{ capacityProvider: string; weight: number; base: number }> {
    return [{ capacityProvider: this.options.appCapacity[app] ?? this.options.capacity, weight: 1, base: 0 }];
  }

  private async updateTaskDefinition(service: string, taskDefinition: string): Promise<void> {
    await this.ecs.send(new UpdateServiceCommand({ cluster: this.options.cluster, service, taskDefinition }));
  }
}
