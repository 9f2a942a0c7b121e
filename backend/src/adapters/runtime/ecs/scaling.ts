import {
  DeregisterScalableTargetCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
  type ApplicationAutoScalingClient,
} from '@aws-sdk/client-application-auto-scaling';
import { awsErrorName } from '../../aws/clients';
import { ecsNames } from './names';
import type { EcsRuntimeOptions } from './options';

/** Target-tracking targets in percent, as the platform's own services use them in Terraform (services.tf). */
const CPU_TARGET = 60;
const MEMORY_TARGET = 75;

/** The job of scaling an app's service between minTasks and maxTasks on CPU and on memory. */
export class ServiceScaling {
  constructor(
    private readonly scaling: ApplicationAutoScalingClient,
    private readonly options: EcsRuntimeOptions,
  ) {}

  private target(app: string) {
    return {
      ServiceNamespace: 'ecs' as const,
      ResourceId: ecsNames(app, this.options.cluster).scalableResource,
      ScalableDimension: 'ecs:service:DesiredCount' as const,
    };
  }

  async ensure(app: string): Promise<void> {
    const names = ecsNames(app, this.options.cluster);
    const target = this.target(app);
    await this.scaling.send(
      new RegisterScalableTargetCommand({
        ...target,
        MinCapacity: this.options.minTasks,
        MaxCapacity: this.options.maxTasks,
      }),
    );
    const policies = [
      { PolicyName: names.cpuPolicy, metric: 'ECSServiceAverageCPUUtilization' as const, value: CPU_TARGET },
      { PolicyName: names.memoryPolicy, metric: 'ECSServiceAverageMemoryUtilization' as const, value: MEMORY_TARGET },
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

  async remove(app: string): Promise<void> {
    try {
      await this.scaling.send(new DeregisterScalableTargetCommand(this.target(app)));
    } catch (err) {
      // "No scalable target found" comes back as a ValidationException.
      if (!['ObjectNotFoundException', 'ValidationException'].includes(awsErrorName(err))) throw err;
    }
  }
}
