import { dirname } from 'node:path';
import { UserFacingError } from '../../domain/errors';
import type { RepoDir } from '../repo';
import { findGo } from '../toolchains';
import { satisfies } from '../versions';
import type { Detected, Provider } from './types';

/** Where the built binary goes inside the artifact. */
export const GO_BINARY = '.cloudsmith/server';

const PACKAGE_MAIN = /^package\s+main\b/m;

function isMainPackage(dir: RepoDir, rel: string): boolean {
  return dir
    .list(rel)
    .filter((f) => f.endsWith('.go') && !f.endsWith('_test.go'))
    .some((f) => PACKAGE_MAIN.test(dir.read(rel === '.' ? f : `${rel}/${f}`) ?? ''));
}

/** The main package: the module root, else the one directory under cmd/ (preferring one named after the module). */
function mainPackage(dir: RepoDir, module: string): string {
  if (isMainPackage(dir, '.')) return '.';
  const cmds = dir.list('cmd').filter((d) => dir.isDir(`cmd/${d}`) && isMainPackage(dir, `cmd/${d}`));
  const named = cmds.find((d) => d === module.split('/').pop());
  const pick = named ?? cmds.at(0);
  if (pick === undefined) {
    throw new UserFacingError(
      `go.mod in ${dir.label} but no main package at the module root or under cmd/: ` +
        'set buildCommand and startCommand (e.g. `go build -o server ./path/to/main` and `./server`)',
    );
  }
  return `./cmd/${pick}`;
}

function detectGo(dir: RepoDir): Detected | null {
  const mod = dir.read('go.mod');
  if (mod === undefined) return null;
  const go = findGo();
  if (!go) {
    throw new UserFacingError(
      `this is a Go app (go.mod in ${dir.label}), but the build host has no Go toolchain: install Go ` +
        "(https://go.dev/dl) so `go` is on the platform's PATH, or build with the Docker builder",
    );
  }
  const module = /^module\s+(\S+)/m.exec(mod)?.[1] ?? 'app';
  const wanted = /^go\s+(\d+(?:\.\d+){0,2})\s*$/m.exec(mod)?.[1];
  if (wanted && !satisfies(go.version, `>=${wanted}`)) {
    throw new UserFacingError(
      `go.mod asks for Go ${wanted}, but the build host has Go ${go.version}: install Go ${wanted} or newer on the build host`,
    );
  }
  const pkg = mainPackage(dir, module);
  return {
    kind: 'go',
    // Downloading modules first is its own step so a Docker layer (and the module cache) can be reused.
    ...(dir.has('go.sum') ? { install: { argv: ['go', 'mod', 'download'] } } : {}),
    build: { argv: ['go', 'build', '-trimpath', '-o', GO_BINARY, pkg] },
    start: { argv: [`./${GO_BINARY}`] },
    // A static binary runs in any image; GOTOOLCHAIN=local never downloads another Go behind the user's back.
    buildEnv: { CGO_ENABLED: '0', GOTOOLCHAIN: 'local' },
    toolPaths: [dirname(go.path)],
    notes: wanted ? [`Go ${go.version} satisfies go.mod's go ${wanted}`] : [],
    reason: `Go ${go.version} (go.mod, module ${module}): go build ${pkg}, run the binary with PORT`,
  };
}

export const goProvider: Provider = { name: 'go', detect: detectGo };
