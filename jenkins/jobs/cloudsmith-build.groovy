// Job DSL: the CloudSmith build job. Seeded by Configuration as Code (casc/jenkins.yaml) or a seed job.
// The parameters mirror the Jenkinsfile's (jenkins/test checks that they agree), so the first build of a
// freshly seeded job already accepts buildWithParameters with every parameter the platform sends.
def pipelineRepo = System.getenv('CLOUDSMITH_PIPELINE_REPO') ?: 'https://github.com/cloudsmith/cloudsmith.git'
def pipelineBranch = System.getenv('CLOUDSMITH_PIPELINE_BRANCH') ?: 'main'
def jobName = System.getenv('JENKINS_JOB') ?: 'cloudsmith-build'

pipelineJob(jobName) {
  description('Builds a CloudSmith deployment: one commit of a user repository into a tar.gz artifact.')
  logRotator {
    numToKeep(50)
    artifactNumToKeep(10)
  }
  properties {
    disableResume()
  }
  parameters {
    stringParam('REPO_CLONE_URL', '', 'HTTPS clone URL of the repository (no credentials in it)')
    stringParam('REF', '', 'Branch or tag the commit was resolved from (informational)')
    stringParam('COMMIT_SHA', '', 'Full 40-character commit to build')
    stringParam('DEPLOYMENT_ID', '', 'CloudSmith deployment id')
    stringParam('ROOT_DIR', '.', 'Directory inside the repository to build (monorepos)')
    stringParam('INSTALL_COMMAND', '', 'Dependency install command, empty for none')
    stringParam('BUILD_COMMAND', '', 'Build command, empty for none')
    stringParam('OUTPUT_DIR', '', 'Static build output to package (or candidates: dist build out); empty packages the whole root dir')
    stringParam('RUN_RULES', '', 'How a framework app runs, decided from its build output (base64 rules from the platform); empty for none')
    stringParam('ARTIFACT_BUCKET', '', 'S3 bucket to upload the artifact to; empty archives it with the build')
    stringParam('ARTIFACT_KEY', '', 'Artifact key (S3 object key)')
    stringParam('RUN_PLAN', '', 'How to run the artifact (base64 JSON), stored as the S3 object metadata cloudsmith-plan')
    stringParam('CACHE_URL', '', 'Build cache of the app: s3://bucket/cache/<app>/; empty builds without a cache')
    stringParam('CACHE_KEY', '', 'Cache key from the platform: hashes of the lockfiles, the commands and the app env (HMAC)')
    stringParam('CACHE_DIRS', '', 'Dirs of the root dir to cache: exact:<dir> (same key only) or any:<dir> (whatever the key)')
    stringParam('CACHE_STORE_ENV', '', 'Package manager store settings (NAME=@store/sub ...), @store being the cached store')
    stringParam('CACHE_SKIP_INSTALL', '', 'true: the install may be skipped when the exact dirs come back under the same key')
    stringParam('CACHE_MAX_MB', '', 'A cache archive bigger than this (MB) is not saved')
    stringParam('CALLBACK_URL', '', 'URL notified with the result (POST, JSON); empty for none')
    stringParam('GIT_CREDENTIALS_ID', '', 'Username/password credential holding the Git token')
    stringParam('ENV_CREDENTIALS_ID', '', 'Secret text credential holding the app build env; empty for none')
  }
  definition {
    cpsScm {
      scm {
        git {
          remote {
            url(pipelineRepo)
          }
          branch(pipelineBranch)
        }
      }
      scriptPath('jenkins/Jenkinsfile')
      lightweight(true)
    }
  }
}
