import type { AppHealth } from '@cloudsmith/client';
import type { App } from '../domain/deployment';
import type { Store } from '../ports/store';
import type { AppMetricsView } from '../ports/metrics';

/**
 * An app's health as the API reports it: stopped without a live release, crashing when the store records the live
 * release crashed (true in every mode), else the traffic and restart verdict of the
 * metrics view the composition root chose.
 */
export async function appHealth(store: Store, metrics: AppMetricsView | undefined, app: App): Promise<AppHealth> {
  if (!app.liveDeploymentId) return { state: 'stopped', reason: 'no live release' };
  const live = await store.getDeployment(app.liveDeploymentId);
  if (live?.status === 'crashed')
    return { state: 'crashing', reason: (live.error ?? 'the app crashed').split('\n')[0] };
  return metrics?.health(app.name) ?? { state: 'unknown' };
}
