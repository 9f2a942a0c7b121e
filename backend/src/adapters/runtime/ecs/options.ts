import type { Config } from '../../../config';
import type { AwsSettings } from '../../aws/clients';

/**
 * The ECS runtime's settings: Config.aws.ecs itself (one source for every CLOUDSMITH_ECS_* value), with the two ALB
 * identifiers made mandatory, plus what the composition root derives (bucket, timeouts, whether the endpoint is an
 * emulator).
 */
export type EcsRuntimeOptions = AwsSettings &
  Omit<Config['aws']['ecs'], 'listenerArn' | 'vpcId'> & {
    /** The shared ALB's HTTPS listener that gets one host-header rule per app. */
    listenerArn: string;
    vpcId: string;
    /** Bucket the runner image downloads tarballs from. */
    artifactBucket?: string;
    /** Port the container listens on; handed to the app as PORT. */
    containerPort?: number;
    /** Upper bound for a rollout to become stable before it is rolled back and reported failed. */
    stableTimeoutMs?: number;
    /**
     * An emulator (moto) registers services but never runs tasks: a service is then done once it is ACTIVE with its
     * desired count. Against AWS the real steady-state waiter runs.
     */
    emulator?: boolean;
    /** How often a live app's CloudWatch streams are read into its runtime log. */
    logPollMs?: number;
  };
