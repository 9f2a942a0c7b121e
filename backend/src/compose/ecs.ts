import type { Config } from '../config';
import type { ArtifactStore } from '../ports/artifacts';
import { isLoopback } from '../adapters/aws/clients';
import { EcsRuntime } from '../adapters/runtime/ecs/ecsRuntime';

/** The ECS runtime as configured by CLOUDSMITH_ECS_* / CLOUDSMITH_ALB_LISTENER_ARN / CLOUDSMITH_VPC_ID (Terraform outputs them all). */
export function ecsRuntimeFromConfig(config: Config, artifacts?: ArtifactStore): EcsRuntime {
  const ecs = config.aws.ecs;
  const missing = [
    ['CLOUDSMITH_ALB_LISTENER_ARN', ecs.listenerArn],
    ['CLOUDSMITH_VPC_ID', ecs.vpcId],
    ['CLOUDSMITH_ECS_SUBNETS', ecs.subnets.join(',')],
  ].filter(([, v]) => !v);
  if (!ecs.listenerArn || !ecs.vpcId || missing.length)
    throw new Error(`the ECS runtime needs ${missing.map(([k]) => k).join(', ')} (see terraform outputs)`);
  return new EcsRuntime(
    {
      ...ecs,
      listenerArn: ecs.listenerArn,
      vpcId: ecs.vpcId,
      region: config.aws.region,
      endpoint: config.aws.endpoint,
      artifactBucket: config.aws.bucket,
      // Fargate rollouts take minutes (image pull, ALB registration); the app health timeout alone is too short.
      stableTimeoutMs: Math.max(config.deploy.healthTimeoutMs, 10 * 60_000),
      emulator: Boolean(config.aws.endpoint && isLoopback(config.aws.endpoint)),
    },
    artifacts,
  );
}
