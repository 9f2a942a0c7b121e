import type { Store } from '../../ports/store';
import type { Sealer } from '../../security/sealer';

/** The app's env vars, opened from their sealed form for the one build or release that needs them. */
export async function loadAppEnv(store: Store, sealer: Sealer, app: string): Promise<Record<string, string>> {
  const sealed = await store.getEnv(app);
  return Object.fromEntries(Object.entries(sealed).map(([key, value]) => [key, sealer.open(value)]));
}
