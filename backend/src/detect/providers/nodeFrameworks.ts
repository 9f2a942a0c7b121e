import { UserFacingError } from '../../domain/errors';
import type { BuildOutput, Detected, Finalized, JsFramework } from './types';

interface FrameworkInfo {
  label: string;
  /** Packages whose presence in dependencies or devDependencies marks the framework. */
  packages: string[];
  /** Its build when package.json has no build script (run with npx --no-install). */
  build: string[];
}

/** Checked in this order: a React Router 7 app also depends on react-router, a Remix one on react. */
export const FRAMEWORKS: Record<JsFramework, FrameworkInfo> = {
  next: { label: 'Next.js', packages: ['next'], build: ['next', 'build'] },
  sveltekit: { label: 'SvelteKit', packages: ['@sveltejs/kit'], build: ['vite', 'build'] },
  nuxt: { label: 'Nuxt', packages: ['nuxt'], build: ['nuxt', 'build'] },
  astro: { label: 'Astro', packages: ['astro'], build: ['astro', 'build'] },
  'react-router': { label: 'React Router', packages: ['@react-router/dev'], build: ['react-router', 'build'] },
  remix: { label: 'Remix', packages: ['@remix-run/dev', '@remix-run/serve'], build: ['remix', 'build'] },
};

export function frameworkOf(deps: Record<string, string>): JsFramework | undefined {
  return (Object.keys(FRAMEWORKS) as JsFramework[]).find((f) => FRAMEWORKS[f].packages.some((p) => p in deps));
}

type Rule = (out: BuildOutput) => Promise<(Omit<Finalized, 'reason'> & { why: string }) | undefined>;

const node = (...argv: string[]) => ({ argv: ['node', ...argv] });

async function all(out: BuildOutput, paths: string[]): Promise<boolean> {
  for (const p of paths) if (!(await out.exists(p))) return false;
  return true;
}

/** What each framework's build can produce, most specific first; the first that is there decides. */
const RULES: Record<JsFramework, Rule[]> = {
  next: [
    async (out) => {
      if (!(await out.exists('.next/standalone/server.js'))) return undefined;
      // Next's docs: the standalone server serves public/ and .next/static only when they are copied beside it.
      const copies: [string, string][] = [['.next/static', '.next/standalone/.next/static']];
      if (await out.exists('public')) copies.push(['public', '.next/standalone/public']);
      return {
        kind: 'next',
        workdir: '.next/standalone',
        // The standalone server binds HOSTNAME; HOST is what the runtimes set (loopback behind the proxy).
        start: { shell: 'HOSTNAME="${HOST:-0.0.0.0}" exec node server.js' },
        copies,
        // Next's docs deploy the standalone dir alone: the root's node_modules would be shipped for nothing.
        ships: ['.next/standalone'],
        why: '.next/standalone/server.js (output: "standalone"): node server.js',
      };
    },
    async (out) =>
      (await out.exists('out/index.html'))
        ? { kind: 'spa', outputDir: 'out', why: 'the build wrote out/ (static export): serving out/' }
        : undefined,
    async (out) =>
      (await out.exists('.next/BUILD_ID'))
        ? {
            kind: 'next',
            start: { argv: ['npx', '--no-install', 'next', 'start'] },
            why: '.next/ (server build): next start',
          }
        : undefined,
  ],
  sveltekit: [
    async (out) =>
      (await all(out, ['build/index.js', 'build/handler.js']))
        ? { kind: 'node', start: node('build'), why: 'build/ is a Node server (adapter-node): node build' }
        : undefined,
    async (out) =>
      (await out.exists('build/index.html'))
        ? { kind: 'spa', outputDir: 'build', why: 'build/ holds static files (adapter-static): serving build/' }
        : undefined,
  ],
  nuxt: [
    async (out) =>
      (await out.exists('.output/server/index.mjs'))
        ? {
            kind: 'node',
            start: node('.output/server/index.mjs'),
            why: '.output/server/index.mjs: node .output/server/index.mjs',
          }
        : undefined,
    async (out) =>
      (await out.exists('.output/public/index.html'))
        ? { kind: 'static', outputDir: '.output/public', why: '.output/public (nuxt generate): serving it' }
        : undefined,
  ],
  astro: [
    async (out) =>
      (await out.exists('dist/server/entry.mjs'))
        ? {
            kind: 'node',
            start: node('dist/server/entry.mjs'),
            why: 'dist/server/entry.mjs (@astrojs/node): node dist/server/entry.mjs',
          }
        : undefined,
    async (out) =>
      (await out.exists('dist/index.html'))
        ? { kind: 'static', outputDir: 'dist', why: 'dist/ holds static pages: serving dist/' }
        : undefined,
  ],
  'react-router': [
    async (out) =>
      (await out.exists('build/server/index.js'))
        ? {
            kind: 'node',
            start: { argv: ['npx', '--no-install', 'react-router-serve', 'build/server/index.js'] },
            why: 'build/server/index.js: react-router-serve',
          }
        : undefined,
    async (out) =>
      (await out.exists('build/client/index.html'))
        ? { kind: 'spa', outputDir: 'build/client', why: 'build/client (SPA mode): serving it' }
        : undefined,
  ],
  remix: [
    async (out) => {
      for (const entry of ['build/server/index.js', 'build/index.js']) {
        if (await out.exists(entry))
          return {
            kind: 'node',
            start: { argv: ['npx', '--no-install', 'remix-serve', entry] },
            why: `${entry}: remix-serve ${entry}`,
          };
      }
      return undefined;
    },
    async (out) =>
      (await out.exists('build/client/index.html'))
        ? { kind: 'spa', outputDir: 'build/client', why: 'build/client (SPA mode): serving it' }
        : undefined,
  ],
};

export async function finalizeFramework(framework: JsFramework, plan: Detected, out: BuildOutput): Promise<Finalized> {
  const { label } = FRAMEWORKS[framework];
  for (const rule of RULES[framework]) {
    const found = await rule(out);
    if (found) {
      const { why, ...rest } = found;
      return { ...rest, reason: `${label} build produced ${why}` };
    }
  }
  if (plan.start)
    return { kind: 'node', start: plan.start, reason: `${label}: no known build output; running its start script` };
  throw new UserFacingError(
    `the ${label} build produced nothing runnable (none of the outputs its adapters write); ` +
      'add a "start" script, or set startCommand (or outputDir for static files) in cloudsmith.json',
  );
}
