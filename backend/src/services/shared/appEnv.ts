import { previewParent } from '../../previews/previewRegistry';
import type { Store } from '../../ports/store';
import type { Sealer } from '../../security/sealer';

/**
 * The app's env vars, opened from their sealed form for the one build or release that needs them. A preview
 * inherits its production app's vars as they are now; its own vars override them.
 */
export async function loadAppEnv(store: Store, sealer: Sealer, app: string): Promise<Record<string, string>> {
  const parent = await previewParent(store, app);
  const inherited = parent ? await store.getEnv(parent) : {};
  const sealed = { ...inherited, ...(await store.getEnv(app)) };
  return Object.fromEntries(Object.entries(sealed).map(([key, value]) => [key, sealer.open(value)]));
}
