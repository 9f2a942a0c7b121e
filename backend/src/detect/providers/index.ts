import { dockerfileProvider } from './dockerfile';
import { goProvider } from './go';
import { nodeProvider } from './node';
import { procfileProvider } from './procfile';
import { pythonProvider } from './python';
import { staticProvider } from './static';
import type { Provider } from './types';

/**
 * Detection order: the first provider whose files are there decides. Languages first (a Django app with
 * a package.json for its assets is a Python app, as with Railpack), then plain static files, then a
 * Procfile that names its own command, and a Dockerfile only when nothing else can build the repo.
 */
export const PROVIDERS: readonly Provider[] = [
  goProvider,
  pythonProvider,
  nodeProvider,
  staticProvider,
  procfileProvider,
  dockerfileProvider,
];

export function providerNamed(name: string): Provider | undefined {
  return PROVIDERS.find((p) => p.name === name);
}
