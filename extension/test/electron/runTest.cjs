// Runs the smoke suite in a downloaded VS Code through @vscode/test-electron, for machines with internet
// access (it downloads VS Code from update.code.visualstudio.com). CI uses the code-server e2e instead
// (test/e2e), because that download is impossible offline.
//   npm i --no-save @vscode/test-electron && node test/electron/runTest.cjs
const path = require('node:path');

async function main() {
  let runTests;
  try {
    ({ runTests } = require('@vscode/test-electron'));
  } catch {
    console.error('install it first: npm i --no-save @vscode/test-electron');
    process.exit(2);
  }
  const extensionDevelopmentPath = path.resolve(__dirname, '..', '..');
  await runTests({
    extensionDevelopmentPath,
    extensionTestsPath: path.resolve(__dirname, 'suite.cjs'),
    launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
    extensionTestsEnv: { CLOUDSMITH_API_URL: process.env.CLOUDSMITH_API_URL || 'http://127.0.0.1:9' },
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
