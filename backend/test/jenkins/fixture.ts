import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from '../../src/adapters/artifacts/fs/fsArtifactStore';
import { JenkinsBuilder, type JenkinsBuilderOptions } from '../../src/adapters/builder/jenkins/jenkinsBuilder';
import { Sealer } from '../../src/security/sealer';
import type { BuilderFixture } from '../contracts/builder.contract';
import { startGitServer, type GitServerHandle } from '../helpers/gitServer';
import { startJenkinsStandin, type JenkinsStandin, type JenkinsStandinOptions } from '../helpers/jenkinsStandin';

export interface JenkinsFixture extends BuilderFixture {
  builder: JenkinsBuilder;
  artifacts: FsArtifactStore;
  jenkins: JenkinsStandin;
  git: GitServerHandle;
  /** The GitHub token the fixture's sources are readable with. */
  token: string;
  sealer: Sealer;
  dir: string;
  publishSource(fixture: string, sourceDir: string): Promise<{ cloneUrl: string; commitSha: string; sealedToken: string }>;
}

/** A JenkinsBuilder against the stand-in, with a git server holding the sources and a filesystem artifact store. */
export async function jenkinsFixture(
  opts: { builder?: Partial<JenkinsBuilderOptions>; standin?: JenkinsStandinOptions; /** CALLBACK_URL = the stand-in's recorder */ callback?: boolean } = {},
): Promise<JenkinsFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'builder-jenkins-'));
  const artifacts = new FsArtifactStore(join(dir, 'artifacts'));
  const token = `ghs_${randomBytes(18).toString('hex')}`;
  const git = await startGitServer({ tokens: { [token]: ['*'] } });
  const jenkins = await startJenkinsStandin({ s3: artifacts, ...opts.standin });
  const sealer = new Sealer(randomBytes(32).toString('hex'));
  const builder = new JenkinsBuilder({
    url: jenkins.url,
    user: jenkins.user,
    apiToken: jenkins.apiToken,
    job: jenkins.job,
    pollMs: 50,
    artifacts,
    openToken: (sealed) => sealer.open(sealed),
    workDir: join(dir, 'work'),
    backoffMs: 20,
    callbackUrl: opts.callback ? `${jenkins.url}/__callback` : undefined,
    ...opts.builder,
  });
  return {
    builder,
    artifacts,
    jenkins,
    git,
    token,
    sealer,
    dir,
    async publishSource(fixture, sourceDir) {
      const fullName = `fixtures/${fixture}-${randomBytes(3).toString('hex')}`;
      const commitSha = await git.addRepo(fullName, sourceDir);
      return { cloneUrl: git.cloneUrl(fullName), commitSha, sealedToken: sealer.seal(token) };
    },
    async cleanup() {
      await jenkins.close();
      await git.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
