import { createHash } from 'node:crypto';

/** The one container of every app task definition. */
export const CONTAINER = 'app';

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
