import assert from 'node:assert/strict';
import { fetchApp } from '../helpers/appFetch';
import { startJenkinsStandin, type JenkinsStandin } from '../helpers/jenkinsStandin';
import { World } from '../helpers/world';

/** The whole platform with CLOUDSMITH_BUILDER=jenkins: choosing Jenkins is configuration only. */
describe('e2e: deploying through Jenkins (stand-in)', function () {
  this.timeout(180_000);
  let jenkins: JenkinsStandin;
  let world: World;

  before(async () => {
    jenkins = await startJenkinsStandin();
    world = await World.start({
      env: {
        CLOUDSMITH_BUILDER: 'jenkins',
        JENKINS_URL: jenkins.url,
        JENKINS_USER: jenkins.user,
        JENKINS_API_TOKEN: jenkins.apiToken,
        JENKINS_JOB: jenkins.job,
        JENKINS_POLL_MS: '50',
      },
    });
  });
  after(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
    await world?.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when before() failed
    await jenkins?.close();
  });

  it('deploys a Node server built by the Jenkins pipeline, with its env, and no token anywhere', async () => {
    await world.addRepo('alice/jenkins-api', 'node-express');
    const queued = await world.deploy(world.alice, { repo: 'alice/jenkins-api', env: { GREETING: 'hi' } });
    const done = await world.waitFor(world.alice, queued.id);
    assert.equal(done.status, 'live', done.error ?? undefined);
    assert.match((await fetchApp(done.url)).body, /hello from node-express/);

    const log = await world.logText(world.alice, queued.id);
    assert.match(log, /Jenkins build #1 started/);
    assert.match(log, /npm ci/);
    assert.ok(!log.includes(world.alice.token), 'token in the deployment log');
    const build = jenkins.builds.get(1);
    assert.ok(build, 'Jenkins ran build 1');
    assert.equal(build.result, 'SUCCESS');
    assert.equal(build.params.COMMIT_SHA, done.commitSha);
    assert.ok(!Object.values(build.params).some((v) => v.includes(world.alice.token)), 'token in a parameter');
    assert.ok(!build.log.toString('utf8').includes(world.alice.token), 'token in the Jenkins console');
    assert.equal(jenkins.credentials.size, 0, 'temporary credentials removed');
  });
});
