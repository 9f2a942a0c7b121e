import type { Config } from './config';
import { appUrl, type Role } from './compose/platform';

/**
 * What a started process says about itself: the mode, the services it runs, the adapters it chose, where
 * apps are served and where its state lives. Every line comes from the config, so it never describes a
 * setup the process is not running.
 */
export function banner(config: Config, roles: readonly Role[], url: string, port: number): string {
  const all = roles.length === 4 && config.bus === 'memory';
  const what = all ? 'the whole platform' : roles.join(', ');
  const lines = [
    `CloudSmith (${config.mode}: ${what}) is running at ${url}`,
    `  runtime: ${config.runtime}; builder: ${config.builder}; bus: ${config.bus}; store: ${config.store}; artifacts: ${config.artifacts}`,
    `  apps: ${appsLine(config, roles, port)}`,
    `  state: ${stateLine(config)}`,
  ];
  if (roles.includes('api'))
    lines.push('  deploy: GITHUB_TOKEN=... npx cloudsmith deploy owner/repo   (or the VS Code extension)');
  return `${lines.join('\n')}\n`;
}

function appsLine(config: Config, roles: readonly Role[], port: number): string {
  if (config.runtime === 'ecs')
    return `ECS services behind the load balancer at https://<app>.${config.aws.ecs.appDomain} (cluster ${config.aws.ecs.cluster})`;
  if (!roles.includes('docksage')) return `served by the Docksage process(es), not this one`;
  const where = config.runtime === 'docker' ? 'containers' : 'local processes';
  return `${where} behind the built-in proxy at ${appUrl(config, '<app>', port)}`;
}

function stateLine(config: Config): string {
  const parts = [config.store === 'sqlite' ? config.dataDir : `DynamoDB tables ${config.aws.tablePrefix}*`];
  if (config.artifacts === 's3') parts.push(`artifacts in s3://${config.aws.bucket}`);
  if (config.aws.endpoint && (config.store === 'dynamodb' || config.artifacts === 's3' || config.runtime === 'ecs'))
    parts.push(`AWS endpoint ${config.aws.endpoint}`);
  return parts.join('; ');
}
