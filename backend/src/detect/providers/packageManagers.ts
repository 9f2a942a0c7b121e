import type { Command } from '../../sandbox/run';
import type { RepoDir } from '../repo';
import type { PackageJson } from '../schema';

export type PackageManagerName = 'npm' | 'pnpm' | 'yarn' | 'yarn-berry';

export interface PackageManager {
  name: PackageManagerName;
  /** Undefined when there is nothing to install. */
  install?: Command;
  run(script: string): Command;
  note: string;
}

/** corepack runs the exact pnpm/yarn the repo pins (packageManager) without a global install; never prompt in a build. */
export const COREPACK_ENV: Record<string, string> = { COREPACK_ENABLE_DOWNLOAD_PROMPT: '0' };

function declared(pkg: PackageJson): { name: string; major: number } | undefined {
  const m = /^(npm|pnpm|yarn)@(\d+)/.exec(pkg.packageManager ?? '');
  return m ? { name: m[1], major: Number(m[2]) } : undefined;
}

/**
 * The package manager, from package.json's packageManager field, else the lockfile that is there. Every
 * install is frozen when a lockfile pins the versions. Builds need devDependencies (bundlers, compilers)
 * though NODE_ENV is production, so pnpm and yarn classic are told to install them.
 */
export function packageManagerFor(dir: RepoDir, pkg: PackageJson): PackageManager {
  const pinned = declared(pkg);
  const hasDeps = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).length > 0;
  const yarnLock = dir.read('yarn.lock');
  const pnpm = pinned?.name === 'pnpm' || (!pinned && dir.has('pnpm-lock.yaml'));
  const yarn = pinned?.name === 'yarn' || (!pinned && yarnLock !== undefined);
  const how = pinned ? `packageManager ${pkg.packageManager ?? ''}` : 'its lockfile';

  if (pnpm) {
    const frozen = dir.has('pnpm-lock.yaml');
    return {
      name: 'pnpm',
      install: {
        argv: ['env', 'NODE_ENV=development', 'corepack', 'pnpm', 'install', ...(frozen ? ['--frozen-lockfile'] : [])],
      },
      run: (script) => ({ argv: ['corepack', 'pnpm', 'run', script] }),
      note: `pnpm (${how}) via corepack, ${frozen ? 'frozen lockfile' : 'no pnpm-lock.yaml'}`,
    };
  }
  if (yarn) {
    // Yarn 2+ ("berry") writes a __metadata block into yarn.lock and reads .yarnrc.yml; classic does neither.
    const berry =
      (pinned !== undefined && pinned.major >= 2) ||
      dir.has('.yarnrc.yml') ||
      (yarnLock !== undefined && /^__metadata:/m.test(yarnLock));
    const frozen = yarnLock !== undefined;
    if (berry) {
      return {
        name: 'yarn-berry',
        install: { argv: ['corepack', 'yarn', 'install', ...(frozen ? ['--immutable'] : [])] },
        run: (script) => ({ argv: ['corepack', 'yarn', 'run', script] }),
        note: `yarn berry (${how}) via corepack, ${frozen ? 'immutable lockfile' : 'no yarn.lock'}`,
      };
    }
    return {
      name: 'yarn',
      install: {
        argv: ['corepack', 'yarn', 'install', '--production=false', ...(frozen ? ['--frozen-lockfile'] : [])],
      },
      run: (script) => ({ argv: ['corepack', 'yarn', 'run', script] }),
      note: `yarn classic (${how}) via corepack, ${frozen ? 'frozen lockfile' : 'no yarn.lock'}`,
    };
  }
  const run = (script: string): Command => ({ argv: ['npm', 'run', script] });
  if (!hasDeps) return { name: 'npm', run, note: 'no dependencies to install' };
  // With a lockfile every version is pinned, so cached registry metadata is as good as fresh and saves a round trip per package.
  if (dir.has('package-lock.json') || dir.has('npm-shrinkwrap.json')) {
    return {
      name: 'npm',
      install: { argv: ['npm', 'ci', '--include=dev', '--prefer-offline'] },
      run,
      note: 'npm ci from the lockfile',
    };
  }
  return {
    name: 'npm',
    install: { argv: ['npm', 'install', '--include=dev'] },
    run,
    note: 'npm install (no package-lock.json)',
  };
}
