import { describeBuilderContract } from './builder.contract';
import { jenkinsFixture } from '../jenkins/fixture';

// The Jenkins stand-in really runs jenkins/Jenkinsfile's steps (checkout from the git server with the
// credential, install, build, package, archive), so the contract checks real artifacts.
describeBuilderContract('jenkins (stand-in)', () => jenkinsFixture());
