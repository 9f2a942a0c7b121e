import type { Provider } from './types';

export const staticProvider: Provider = {
  name: 'static',
  detect(dir) {
    if (!dir.isFile('index.html')) return null;
    return { kind: 'static', outputDir: '.', reason: `static site: index.html in ${dir.label}, served as is` };
  },
};
