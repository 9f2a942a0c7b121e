import type { Command } from '../../sandbox/run';
import type { RepoDir } from '../repo';

export type JsFramework = 'next' | 'sveltekit' | 'nuxt' | 'astro' | 'remix' | 'react-router';

export type PlanKind = 'node' | 'spa' | 'static' | 'next' | 'python' | 'go' | 'procfile' | 'dockerfile';

/** What a provider decided before the build, from the files in the app's dir. */
export interface Detected {
  kind: PlanKind;
  install?: Command;
  build?: Command;
  start?: Command;
  /** Relative to rootDir; for static plans only. */
  outputDir?: string;
  /** Extra environment for install and build steps (toolchain settings, caches, never secrets). */
  buildEnv?: Record<string, string>;
  /** A server-side JS framework whose way of running is decided from its build output. */
  framework?: JsFramework;
  /** Host directories put first on PATH by the local builder (where the toolchain is); images have their own. */
  toolPaths?: string[];
  /** Host directories a sandboxed step or app must be able to read: a toolchain outside /usr (pyenv's Python). */
  toolDirs?: string[];
  reason: string;
  /** Said in the build log: decisions made for the user (a server added) and toolchain mismatches. */
  notes?: string[];
}

/** What the build produced, seen by the provider that decides how to run it. */
export interface BuildOutput {
  exists(rel: string): Promise<boolean>;
  /** The output's directory on this machine, when it is local (the local builder); fixes that need files use it. */
  localRoot?: string;
}

/** How to run what the build produced. */
export interface Finalized {
  kind: PlanKind;
  start?: Command;
  outputDir?: string;
  /** Directory the start command runs in, relative to rootDir (e.g. a Next.js standalone server's). */
  workdir?: string;
  /** Paths copied (from → to, relative to rootDir) before packaging, as a framework's docs require. */
  copies?: [string, string][];
  /**
   * The only paths (relative to rootDir, after the copies) the server reads at run time, when the build's output
   * is self-contained (Next.js standalone carries its own traced node_modules); unset, the whole rootDir ships.
   */
  ships?: string[];
  reason: string;
}

export interface Provider {
  readonly name: string;
  detect(dir: RepoDir): Detected | null;
  /**
   * Turns a user's shell command (Procfile line, startCommand, release) into one that runs with the
   * stack's environment, e.g. a Python app's virtualenv on PATH.
   */
  wrapCommand?(shell: string): string;
  /** Decides how to run from what the build produced; undefined keeps the detected start. */
  finalize?(plan: Detected, output: BuildOutput): Promise<Finalized | undefined>;
}
