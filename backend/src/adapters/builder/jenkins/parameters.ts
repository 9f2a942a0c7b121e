/**
 * The build parameters the adapter sends to `buildWithParameters`. jenkins/Jenkinsfile and
 * jenkins/jobs/cloudsmith-build.groovy declare exactly these (jenkins/test checks both against this list).
 * No secret is ever one of them: the Git token and the app env travel as Jenkins credentials, by id.
 */
export const JENKINS_PARAMETERS = [
  'REPO_CLONE_URL',
  'REF',
  'COMMIT_SHA',
  'DEPLOYMENT_ID',
  'ROOT_DIR',
  'INSTALL_COMMAND',
  'BUILD_COMMAND',
  'OUTPUT_DIR',
  'RUN_RULES',
  'ARTIFACT_BUCKET',
  'ARTIFACT_KEY',
  'RUN_PLAN',
  'CACHE_URL',
  'CACHE_KEY',
  'CACHE_DIRS',
  'CACHE_STORE_ENV',
  'CACHE_SKIP_INSTALL',
  'CACHE_MAX_MB',
  'CALLBACK_URL',
  'GIT_CREDENTIALS_ID',
  'ENV_CREDENTIALS_ID',
] as const;

export type JenkinsParameter = (typeof JENKINS_PARAMETERS)[number];
export type JenkinsParameters = Record<JenkinsParameter, string>;
