// Makes the platform image's build context in <dir>: the backend compiled by tsc (backend/bin/build.js) and
// dist/main.js bundled with its dependencies into platform.cjs (esbuild; better-sqlite3 left out, see the
// Dockerfile), the runtime assets, and the Dockerfile.
//   node backend/image/context.mjs <dir>
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const backend = join(here, '..');
const out = resolve(process.argv[2] ?? join(here, 'dist'));
const require = createRequire(join(backend, 'package.json'));
execFileSync(process.execPath, [join(backend, 'bin', 'build.js'), '--if-needed'], { stdio: 'inherit' });
const esbuild = require('esbuild');
mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: [join(backend, 'dist', 'main.js')],
  outfile: join(out, 'platform.cjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['better-sqlite3'],
  logLevel: 'warning',
});
cpSync(join(backend, 'runtime-assets'), join(out, 'runtime-assets'), { recursive: true });
copyFileSync(join(here, 'Dockerfile'), join(out, 'Dockerfile'));
console.log(out);
