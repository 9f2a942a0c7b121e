import type { App } from '../domain/deployment';
import type { Store } from '../ports/store';

/**
 * How many of an app's newest deployments keep their build and deploy logs. Older logs are what a user no longer
 * opens, and a noisy app must not grow the store without bound; the deployments themselves (and their artifacts,
 * for rollback) stay.
 */
export const LOG_RETENTION_DEPLOYMENTS = 20;

/** Most deletions one call makes: bounds the work a release does; the next release carries on. */
const MAX_DELETIONS = 50;

/** Drops the logs of an app's deployments older than its newest `keep`. */
export async function pruneLogs(store: Store, app: App, keep = LOG_RETENTION_DEPLOYMENTS): Promise<number> {
  const deployments = await store.listDeployments({ ownerId: app.ownerId, app: app.name, limit: keep + MAX_DELETIONS });
  const old = deployments.slice(keep);
  for (const deployment of old) await store.deleteLogs(deployment.id);
  return old.length;
}
