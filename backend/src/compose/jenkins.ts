import { join } from 'node:path';
import type { Config } from '../config';
import { JenkinsBuilder } from '../adapters/builder/jenkins/jenkinsBuilder';
import type { ArtifactStore } from '../ports/artifacts';

/** The Jenkins builder as JENKINS_URL / JENKINS_USER / JENKINS_API_TOKEN / JENKINS_JOB ... configure it. */
export function jenkinsBuilderFromConfig(
  config: Config,
  deps: { artifacts: ArtifactStore; openToken: (sealed: string) => string; callbackUrl?: string },
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
    artifacts: deps.artifacts,
    openToken: deps.openToken,
    callbackUrl: deps.callbackUrl,
    timeoutMs: config.build.timeoutMs,
    workDir: join(config.dataDir, 'jenkins'),
  });
}
