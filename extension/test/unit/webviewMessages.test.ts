import assert from 'node:assert/strict';
import { isFromWebview } from '../../src/webview/messages';

describe('extension: Launchboard message validation', () => {
  it('accepts the typed messages and rejects anything else a page could post', () => {
    assert.ok(isFromWebview({ type: 'ready' }));
    assert.ok(isFromWebview({ type: 'deploy', request: { repo: 'alice/site', ref: 'main' } }));
    assert.ok(isFromWebview({ type: 'openUrl', url: 'http://site-alice.localhost:8080' }));
    assert.ok(!isFromWebview({ type: 'openUrl', url: 'command:workbench.action.terminal.new' }));
    assert.ok(!isFromWebview({ type: 'deploy', request: 'alice/site' }));
    assert.ok(!isFromWebview({ type: 'cancel' }));
    assert.ok(!isFromWebview({ type: 'runShell', cmd: 'rm -rf /' }));
    assert.ok(!isFromWebview(null));
    assert.ok(!isFromWebview('ready'));
  });
});
