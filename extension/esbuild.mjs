// Bundles the extension host code (with @cloudsmith/client) and the Launchboard webview script.
// --production minifies; --watch rebuilds on change. Icons from the repo's media/ are copied into dist/media
// because a .vsix may only contain files under the extension folder.
import { context } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

mkdirSync(join(here, 'dist', 'media'), { recursive: true });
for (const icon of ['icon.png', 'cloudsmith.svg'])
  copyFileSync(join(here, '..', 'media', icon), join(here, 'dist', 'media', icon));

// cloudsmith-source: bundle @cloudsmith/client from its TypeScript, so an edit there needs no client build first.
const common = {
  bundle: true,
  minify: production,
  sourcemap: !production,
  logLevel: 'warning',
  absWorkingDir: here,
  conditions: ['cloudsmith-source'],
};
const contexts = await Promise.all([
  context({
    ...common,
    entryPoints: ['src/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // ws loads these optional native helpers only if present; the bundle runs without them.
    external: ['vscode', 'bufferutil', 'utf-8-validate'],
    banner: { js: 'var __cloudsmithLoadStart = performance.now();' },
    metafile: true,
  }),
  context({
    ...common,
    entryPoints: { webview: 'src/webview/main.ts' },
    outdir: 'dist',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    loader: { '.css': 'css' },
  }),
]);

if (watch) {
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('esbuild: watching');
} else {
  await Promise.all(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
}
