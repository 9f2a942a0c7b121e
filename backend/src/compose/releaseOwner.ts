import type { Config } from '../config';
import type { BuildCompleted } from '../domain/events';
import { parseArtifactKey } from '../lambda/s3Event';

/**
 * One owner per release. With CLOUDSMITH_RELEASE_OWNER=lambda (Terraform sets it beside the S3 → Lambda
 * notification) the artifact-uploaded Lambda releases every build whose artifact was uploaded to S3 for that very
 * deployment, and Docksage stands down for it: both would otherwise release the same deployment. Docksage keeps
 * what never produces an upload event: image artifacts (Docker builder) and rollbacks, which re-release an earlier
 * deployment's artifact.
 */
export function lambdaOwnsRelease(config: Config, event: BuildCompleted): boolean {
  if (config.releaseOwner !== 'lambda' || event.artifact.kind !== 'tarball') return false;
  return parseArtifactKey(event.artifact.key)?.deploymentId === event.deploymentId;
}
