import assert from 'node:assert/strict';
import { age, shortSha, statusBarView } from '../../src/model/status';

const base = { id: '0123456789abcdef', repo: 'alice/site', url: null, error: null };

describe('extension: status bar text', () => {
  it('spins while deploying, naming the stage and repo', () => {
    const view = statusBarView({ kind: 'deployment', deployment: { ...base, status: 'building' } })!;
    assert.equal(view.text, '$(sync~spin) CloudSmith: building alice/site');
    assert.equal(view.action, 'showLogs');
    assert.equal(
      statusBarView({ kind: 'deployment', deployment: { ...base, status: 'queued' } })!.text,
      '$(sync~spin) CloudSmith: queued alice/site',
    );
  });

  it('shows the URL when live and opens it on click', () => {
    const view = statusBarView({
      kind: 'deployment',
      deployment: { ...base, status: 'live', url: 'http://alice-site.localhost:8080' },
    })!;
    assert.equal(view.text, '$(globe) http://alice-site.localhost:8080');
    assert.equal(view.action, 'openUrl');
    assert.match(view.tooltip, /live at http:\/\/alice-site\.localhost:8080/);
  });

  it('shows an error with the reason in the tooltip, clicking shows logs', () => {
    const view = statusBarView({
      kind: 'deployment',
      deployment: { ...base, status: 'failed', error: 'build failed: exit 1' },
    })!;
    assert.equal(view.text, '$(error) CloudSmith: alice/site failed');
    assert.match(view.tooltip, /build failed: exit 1/);
    assert.equal(view.action, 'showLogs');
    assert.equal(view.severity, 'error');
  });

  it('covers cancelled, signed out and hidden', () => {
    assert.equal(
      statusBarView({ kind: 'deployment', deployment: { ...base, status: 'cancelled' } })!.text,
      '$(circle-slash) CloudSmith: alice/site cancelled',
    );
    assert.equal(statusBarView({ kind: 'signedOut' })!.action, 'signIn');
    assert.equal(statusBarView({ kind: 'hidden' }), undefined);
  });

  it('formats ages and commits', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(age('2025-12-31T23:59:30Z', now), '30s ago');
    assert.equal(age('2025-12-31T22:00:00Z', now), '2h ago');
    assert.equal(age('2025-12-25T00:00:00Z', now), '7d ago');
    assert.equal(shortSha('0123456789'), '0123456');
    assert.equal(shortSha(null), '');
  });
});
