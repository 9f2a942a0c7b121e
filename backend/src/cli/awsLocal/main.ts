import { errorMessage } from '../../domain/errors';
import { isEntryModule } from '../entry';
import { createNetwork, findNetwork, type LocalNetwork } from './network';

/**
 * scripts/aws-local.sh's second half: makes (or finds again) in moto what terraform/ makes in an account, and prints
 * the environment that points `npm start` at it, as `export` lines for `eval`. Messages go to stderr.
 */
export async function awsLocalEnv(env: NodeJS.ProcessEnv): Promise<Record<string, string>> {
  const endpoint = env.AWS_ENDPOINT_URL;
  if (!endpoint) throw new Error('AWS_ENDPOINT_URL must name the emulator (scripts/aws-local.sh sets it)');
  const region = env.AWS_REGION || 'us-east-1';
  // One name for everything this run makes, so several local setups can share one moto.
  const name = env.CLOUDSMITH_AWS_LOCAL_NAME || 'cloudsmith-local';
  if (!/^[a-z0-9][a-z0-9-]{0,24}$/.test(name))
    throw new Error(`CLOUDSMITH_AWS_LOCAL_NAME must be 1-25 lowercase letters, digits or hyphens, got "${name}"`);
  const settings = { region, endpoint };
  let network: LocalNetwork | undefined = await findNetwork(settings, name);
  if (network) process.stderr.write(`aws-local: found the network "${name}" made earlier\n`);
  else {
    network = await createNetwork(settings, name);
    process.stderr.write(`aws-local: made the network "${name}" (VPC, 2 subnets, ALB + listener, ECS cluster)\n`);
  }
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: region,
    CLOUDSMITH_STORE: 'dynamodb',
    CLOUDSMITH_ARTIFACTS: 's3',
    CLOUDSMITH_RUNTIME: 'ecs',
    CLOUDSMITH_DYNAMODB_PREFIX: `${name}-`,
    CLOUDSMITH_S3_BUCKET: `${name}-artifacts`,
    CLOUDSMITH_ECS_CLUSTER: network.cluster,
    CLOUDSMITH_ECS_SUBNETS: network.subnets.join(','),
    CLOUDSMITH_ECS_SECURITY_GROUPS: network.securityGroups.join(','),
    CLOUDSMITH_ALB_LISTENER_ARN: network.listenerArn,
    CLOUDSMITH_VPC_ID: network.vpcId,
    // moto accepts any role ARN; in an account these come from terraform outputs.
    CLOUDSMITH_ECS_EXECUTION_ROLE_ARN: 'arn:aws:iam::123456789012:role/cloudsmith-task-execution',
    CLOUDSMITH_ECS_TASK_ROLE_ARN: 'arn:aws:iam::123456789012:role/cloudsmith-app-task',
    // The image that runs tarball artifacts (terraform/runner). moto records it and runs nothing.
    CLOUDSMITH_ECS_RUNNER_IMAGE: env.CLOUDSMITH_ECS_RUNNER_IMAGE || '127.0.0.1:5000/cloudsmith/runner:local',
    CLOUDSMITH_ECS_APP_DOMAIN: env.CLOUDSMITH_ECS_APP_DOMAIN || 'apps.cloudsmith.test',
  };
}

/** POSIX-shell single quoting: the values are ARNs and ids, but quoting never hurts an `eval`. */
export function exportLines(vars: Record<string, string>): string {
  return Object.entries(vars)
    .map(([k, v]) => `export ${k}='${v.replace(/'/g, `'\\''`)}'\n`)
    .join('');
}

if (isEntryModule(__filename))
  awsLocalEnv(process.env).then(
    (vars) => process.stdout.write(exportLines(vars)),
    (err: unknown) => {
      process.stderr.write(`aws-local: ${errorMessage(err)}\n`);
      process.exit(1);
    },
  );
