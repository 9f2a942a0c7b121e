/** The parts of an S3 event notification the artifact-uploaded Lambda reads (the full shape is AWS's `S3Event`). */
export interface S3EventRecord {
  eventName: string;
  s3: { bucket: { name: string }; object: { key: string; size?: number } };
}
export interface S3Event {
  Records: S3EventRecord[];
}

/** `artifacts/<app>/<commit>/<deploymentId>.tar.gz`, as ports/artifacts.ts builds it. */
const ARTIFACT_KEY = /^artifacts\/([^/]+)\/([^/]+)\/([^/]+)\.tar\.gz$/;

/** S3 event keys are URL-encoded with `+` for spaces. */
export function decodeS3Key(raw: string): string {
  return decodeURIComponent(raw.replace(/\+/g, ' '));
}

export function parseArtifactKey(key: string): { app: string; commitSha: string; deploymentId: string } | undefined {
  const m = ARTIFACT_KEY.exec(key);
  return m ? { app: m[1], commitSha: m[2], deploymentId: m[3] } : undefined;
}
