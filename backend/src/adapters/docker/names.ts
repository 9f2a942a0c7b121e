import { UserFacingError } from '../../domain/errors';

/** Labels every container and image the platform makes carries, so cleanup finds exactly its own. */
export const APP_LABEL = 'cloudsmith.app';
export const DEPLOYMENT_LABEL = 'cloudsmith.deployment';

// Docker repository path components: lower-case alphanumerics with single separators; app names already are.
const REPO_COMPONENT = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** `<registry>/<app>:<commit>`, refusing anything that would not be one image reference. */
export function imageName(registry: string, app: string, commitSha: string): string {
  const repo = appRepository(app);
  if (!TAG.test(commitSha)) throw new UserFacingError(`commit "${commitSha}" cannot be an image tag`);
  return `${registryPrefix(registry)}${repo}:${commitSha}`;
}

/** `<registry>/`: what every image reference of this registry starts with (its trailing slashes folded). */
export function registryPrefix(registry: string): string {
  return `${registry.replace(/\/+$/, '')}/`;
}

export function appRepository(app: string): string {
  if (!REPO_COMPONENT.test(app)) throw new UserFacingError(`app name "${app}" cannot be a Docker image name`);
  return app;
}

const LABEL_KEY = /^[a-z0-9]+(?:[.-][a-z0-9]+)*$/;

/**
 * One LABEL instruction for a generated Dockerfile's last line (the classic builder makes a layer of each label
 * given with `--label`, and this one line costs one): values quoted, keys the platform's own.
 */
export function labelInstruction(labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(([key, value]) => {
    if (!LABEL_KEY.test(key)) throw new Error(`not a label key: ${key}`);
    return `${key}=${JSON.stringify(value)}`;
  });
  return `LABEL ${pairs.join(' ')}`;
}

/** `--filter label=cloudsmith.app=<app>`: app names are checked, so the filter matches that app only. */
export function appFilter(app: string): string[] {
  return ['--filter', `label=${APP_LABEL}=${appRepository(app)}`];
}
