// Runs inside the Extension Development Host started by runTest.cjs: activation, contributed commands, and the
// "backend unreachable" path with an API URL where nothing listens.
/* global describe, it -- mocha's BDD functions, defined by the Mocha instance below before smoke() runs */
const assert = require('node:assert/strict');
const vscode = require('vscode');
const Mocha = require('mocha');

function smoke() {
  describe('CloudSmith in VS Code (test-electron)', function () {
    this.timeout(60_000);
    let api;

    it('activates and reports its activation time', async () => {
      const ext = vscode.extensions.getExtension('cloudsmith.cloudsmith');
      assert.ok(ext, 'extension is installed');
      api = await ext.activate();
      assert.equal(typeof api.activationMs, 'number');
    });

    it('contributes every command', async () => {
      const all = await vscode.commands.getCommands(true);
      for (const id of [
        'deploy',
        'showLogs',
        'openApp',
        'cancel',
        'rollback',
        'redeploy',
        'signIn',
        'signOut',
        'refresh',
      ]) {
        assert.ok(all.includes(`cloudsmith.${id}`), id);
      }
    });

    it('turns an unexpected prompt into a failure instead of a hang', async () => {
      const asked = [];
      api.setUserInput({
        pick: async (_items, options) => {
          asked.push(options.title);
          throw new Error(`unexpected prompt ${options.title}`);
        },
        input: async (options) => {
          asked.push(options.title);
          throw new Error(`unexpected prompt ${options.title}`);
        },
      });
      await vscode.commands.executeCommand('cloudsmith.filterRepositories');
      assert.deepEqual(asked, ['CloudSmith: Filter Repositories']);
    });
  });
}

exports.run = function run() {
  const mocha = new Mocha({ ui: 'bdd', color: true, timeout: 60_000 });
  mocha.suite.emit('pre-require', global, 'smoke', mocha);
  smoke();
  return new Promise((resolve, reject) =>
    mocha.run((failures) => (failures ? reject(new Error(`${failures} failed`)) : resolve())),
  );
};
