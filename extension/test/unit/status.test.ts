import assert from 'node:assert/strict';
import { LogPrinter } from '../../src/model/logFormat';
import { age, shortSha, statusBarView } from '../../src/model/status';
import { must } from './must';

const base = { id: '0123456789abcdef', repo: 'alice/site', url: null, error: null };

describe('extension: status bar text', () => {
  it('spins while deploying, naming the stage and repo', () => {
    const view = must(statusBarView({ kind: 'deployment', deployment: { ...base, status: 'building' } }));
    assert.equal(view.text, '$(sync~spin) CloudSmith: building alice/site');
    assert.equal(view.action, 'showLogs');
    assert.equal(
      must(statusBarView({ kind: 'deployment', deployment: { ...base, status: 'queued' } })).text,
      '$(sync~spin) CloudSmith: queued alice/site',
    );
  });

  it('shows the URL when live and opens it on click', () => {
    const view = must(
      statusBarView({
        kind: 'deployment',
        deployment: { ...base, status: 'live', url: 'http://alice-site.localhost:8080' },
      }),
    );
    assert.equal(view.text, '$(globe) http://alice-site.localhost:8080');
    assert.equal(view.action, 'openUrl');
    assert.match(view.tooltip, /live at http:\/\/alice-site\.localhost:8080/);
  });

  it('shows an error with the reason in the tooltip, clicking shows logs', () => {
    const view = must(
      statusBarView({
        kind: 'deployment',
        deployment: { ...base, status: 'failed', error: 'build failed: exit 1' },
      }),
    );
    assert.equal(view.text, '$(error) CloudSmith: alice/site failed');
    assert.match(view.tooltip, /build failed: exit 1/);
    assert.equal(view.action, 'showLogs');
    assert.equal(view.severity, 'error');
  });

  it('covers cancelled, signed out and hidden', () => {
    assert.equal(
      must(statusBarView({ kind: 'deployment', deployment: { ...base, status: 'cancelled' } })).text,
      '$(circle-slash) CloudSmith: alice/site cancelled',
    );
    assert.equal(must(statusBarView({ kind: 'signedOut' })).action, 'signIn');
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

describe('extension: status bar while offline, and a crashed app', () => {
  const d = { id: '0123456789abcdef', repo: 'alice/site', error: null };
  it('drops the URL while the backend is offline and says reconnecting instead of the stage', () => {
    const live = must(
      statusBarView({
        kind: 'deployment',
        deployment: { ...d, status: 'live', url: 'http://site.localhost' },
        offline: true,
      }),
    );
    assert.doesNotMatch(live.text, /http/);
    assert.equal(live.text, '$(debug-disconnect) CloudSmith: offline');
    assert.equal(live.action, 'retry');
    const building = must(
      statusBarView({
        kind: 'deployment',
        deployment: { ...d, status: 'building', url: null },
        offline: true,
      }),
    );
    assert.equal(building.text, '$(sync~spin) CloudSmith: reconnecting… alice/site');
    assert.equal(must(statusBarView({ kind: 'offline', apiUrl: 'http://api' })).severity, 'warning');
  });

  it('shows a crashed app as a warning', () => {
    const view = must(statusBarView({ kind: 'deployment', deployment: { ...d, status: 'crashed', url: null } }));
    assert.equal(view.text, '$(warning) CloudSmith: alice/site crashed');
    assert.equal(view.severity, 'warning');
  });

  it('shows a live app that crashes or returns 5xx as a warning that opens its App Logs', () => {
    const live = { ...base, app: 'site-alice', status: 'live' as const, url: 'http://site-alice.localhost:8080' };
    const view = must(
      statusBarView({
        kind: 'deployment',
        deployment: live,
        health: { state: 'erroring', reason: '42% of requests got 5xx in the last 5 min' },
      }),
    );
    assert.equal(view.text, '$(warning) CloudSmith: alice/site erroring');
    assert.equal(view.action, 'showAppLogs');
    assert.equal(view.severity, 'warning');
    assert.match(view.tooltip, /returning server errors \(5xx\): 42% of requests/);
    const healthy = must(statusBarView({ kind: 'deployment', deployment: live, health: { state: 'healthy' } }));
    assert.equal(healthy.action, 'openUrl');
    const building = { ...live, status: 'building' as const };
    assert.equal(
      must(statusBarView({ kind: 'deployment', deployment: building, health: { state: 'crashing' } })).action,
      'showLogs',
      'while a deploy runs, a click opens its logs',
    );
  });
});

describe('extension: one interruption line per dropped log stream', () => {
  it('prints the first reconnect attempt only', () => {
    const printer = new LogPrinter('0123456789abcdef', 'alice/site');
    assert.equal(printer.reconnecting(4, 'ECONNREFUSED', 1).length, 1);
    assert.deepEqual(printer.reconnecting(4, 'ECONNREFUSED', 2), []);
    assert.deepEqual(printer.reconnecting(4, 'ECONNREFUSED', 9), []);
  });
});
