import type { Readable } from 'node:stream';
import type { RunPlan } from '../domain/deployment';

export interface StoredArtifact {
  key: string;
  size: number;
  sha256: string;
}

/** Build outputs and fetched sources as tar.gz blobs, addressed by key, verified by checksum. */
export interface ArtifactStore {
  /**
   * Stores `body` under `key` as it arrives (a build streams its tarball straight in, no file in between), with the
   * size and sha256 counted on the way; `key` shows the previous content until the new one is complete. A build
   * artifact carries its run plan: stores that announce uploads (S3 → the artifact-uploaded Lambda) keep it with the
   * object so the receiver can run it.
   */
  put(key: string, body: Readable, meta?: { plan?: RunPlan }): Promise<StoredArtifact>;
  /** Stores the file at `path` under `key`, as put does. */
  putFile(key: string, path: string, meta?: { plan?: RunPlan }): Promise<StoredArtifact>;
  /** Downloads `key` to `path`, failing if the content does not match `sha256`. */
  getFile(key: string, path: string, sha256?: string): Promise<void>;
  /**
   * Streams `key`. The stream errors at its end, instead of ending, when the content does not hash to `sha256`
   * (without it, to the sha256 recorded when it was stored): a reader acts on what it read only once it ended.
   */
  open(key: string, sha256?: string): Promise<Readable>;
  exists(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
}

/** Keys per app and commit, so redeploys of a commit land beside each other and an app's artifacts can be listed and removed together. */
export function artifactKey(app: string, commitSha: string, deploymentId: string): string {
  return `artifacts/${app}/${commitSha}/${deploymentId}.tar.gz`;
}

export function sourceKey(app: string, commitSha: string, deploymentId: string): string {
  return `sources/${app}/${commitSha}/${deploymentId}.tar.gz`;
}
