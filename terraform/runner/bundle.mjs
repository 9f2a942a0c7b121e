// Makes the runner image's build context in <dir>: runner.mjs bundled with @aws-sdk/client-s3 and tar into one
// CommonJS file (esbuild, from the workspace's dependencies), and the Dockerfile.
//   node terraform/runner/bundle.mjs <dir>
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? join(here, 'dist'));
// esbuild comes with the workspace (tsx depends on it); resolved from the backend, where the SDK lives too.
const require = createRequire(join(here, '..', '..', 'backend', 'package.json'));
const esbuild = require('esbuild');
mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: [join(here, 'runner.mjs')],
  outfile: join(out, 'runner.cjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  nodePaths: [join(here, '..', '..', 'node_modules'), join(here, '..', '..', 'backend', 'node_modules')],
  logLevel: 'warning',
});
copyFileSync(join(here, 'Dockerfile'), join(out, 'Dockerfile'));
console.log(out);
