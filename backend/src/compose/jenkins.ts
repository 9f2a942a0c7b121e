import { join } from 'node:path';
import type { Config } from '../config';
import { JenkinsBuilder } from '../adapters/builder/jenkins/jenkinsBuilder';
import type { ArtifactStore } from '../ports/artifacts';

/** The Jenkins builder as JENKINS_URL / JENKINS_USER / JENKINS_API_TOKEN / JENKINS_JOB ... configure it. */
export function jenkinsBuilderFromConfig(
  config: Config,
  deps: {
    artifacts: ArtifactStore;
    openToken: (sealed: string) => string;
    /** The salt of env hashes in cache keys (Sealer.derive(BUILD_CACHE_SALT)); without it builds are cold. */
    cacheSalt?: Buffer;
    callbackUrl?: string;
  },
): JenkinsBuilder {
  const { url, user, apiToken, job, pollMs, artifactBucket } = config.jenkins;
  if (!url || !user || !apiToken) {
    throw new Error('CLOUDSMITH_BUILDER=jenkins needs JENKINS_URL, JENKINS_USER and JENKINS_API_TOKEN');
  }
  return new JenkinsBuilder({
    url,
    user,
    apiToken,
    job,
    pollMs,
    artifactBucket,
    // The build cache lives in the artifact bucket, under cache/ (terraform's lifecycle rule expires it there).
    cache:
      artifactBucket && deps.cacheSalt && config.buildCache.enabled
        ? { bucket: artifactBucket, salt: deps.cacheSalt, maxAppMb: config.buildCache.maxAppMb }
        : undefined,
    artifacts: deps.artifacts,
    openToken: deps.openToken,
    callbackUrl: deps.callbackUrl,
    timeoutMs: config.build.timeoutMs,
    workDir: join(config.dataDir, 'jenkins'),
  });
}
