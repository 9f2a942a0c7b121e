import type { Provider } from './types';

/** Nothing but a Dockerfile: only a Docker builder can build it. */
export const dockerfileProvider: Provider = {
  name: 'dockerfile',
  detect(dir) {
    if (!dir.isFile('Dockerfile')) return null;
    return { kind: 'dockerfile', reason: `only a Dockerfile in ${dir.label}: it is built and run with Docker` };
  },
};
