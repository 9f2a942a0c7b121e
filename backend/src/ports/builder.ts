import type { ArtifactRef, Overrides, RunPlan, Stage } from '../domain/deployment';

export type LogFn = (text: string, stage?: Stage) => void;

export interface BuildJob {
  deploymentId: string;
  app: string;
  repo: string;
  commitSha: string;
  /** Fetched source, unpacked (local builders build here). */
  sourceDir: string;
  /** For builders that fetch for themselves (Jenkins); with the sealed token they receive through credentials. */
  cloneUrl: string;
  sealedToken: string;
  overrides: Overrides;
  /** The app's env vars, decrypted: build-time env. Never the platform's own. */
  env: Record<string, string>;
  /** A preview's production app, whose build cache may seed this app's first build (copied, never written). */
  cacheSeed?: string;
}

export interface BuildResult {
  artifact: ArtifactRef;
  plan: RunPlan;
}

export interface BuildContext {
  signal: AbortSignal;
  log: LogFn;
}

/** Turns a source tree into a runnable artifact. Throws UserFacingError with a clear reason when the build fails. */
export interface Builder {
  readonly name: string;
  build(job: BuildJob, ctx: BuildContext): Promise<BuildResult>;
  /** The app was deleted: whatever the builder keeps for it (its build cache) goes too. */
  forget?(app: string): Promise<void>;
}
