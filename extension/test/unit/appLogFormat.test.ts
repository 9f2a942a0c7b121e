import assert from 'node:assert/strict';
import type { RuntimeLogLine } from '@cloudsmith/client';
import { AppLogPrinter, clock } from '../../src/model/appLogFormat';

const AT = new Date(2026, 11, 7, 14, 5, 3).toISOString();
const line = (
  seq: number,
  stream: RuntimeLogLine['stream'],
  text: string,
  deploymentId = 'aaaaaaaa-1111',
): RuntimeLogLine => ({
  seq,
  at: AT,
  deploymentId,
  stream,
  text,
});

describe('extension: App Logs channel text', () => {
  it('prints stdout and stderr with their local time, stderr marked, after a rule naming the release', () => {
    const p = new AppLogPrinter('site-alice');
    assert.deepEqual(p.header(), ['━━━ site-alice · runtime logs (following) ━━━']);
    assert.deepEqual(p.lines(line(1, 'stdout', 'listening on 3000')), [
      '── release of deployment aaaaaaaa ──',
      '[14:05:03]        │ listening on 3000',
    ]);
    assert.deepEqual(p.lines(line(2, 'stderr', 'warn: slow\n')), ['[14:05:03] stderr │ warn: slow']);
  });

  it('shows crashes, restarts and stops as lines of their own, unlike any output', () => {
    const p = new AppLogPrinter('site-alice');
    p.lines(line(1, 'stdout', 'x'));
    assert.deepEqual(p.lines(line(2, 'event', 'crashed (exit 1), restarting in 2 s')), [
      '[14:05:03] ✖ ━━ crashed (exit 1), restarting in 2 s ━━',
    ]);
    assert.deepEqual(p.lines(line(3, 'event', 'restarted')), ['[14:05:03] ▶ ━━ restarted ━━']);
    assert.deepEqual(p.lines(line(4, 'event', 'stopped')), ['[14:05:03] ■ ━━ stopped ━━']);
  });

  it('marks a new release, lines dropped by retention, and strips colour codes and carriage returns', () => {
    const p = new AppLogPrinter('site-alice');
    p.lines(line(1, 'stdout', 'a'));
    assert.deepEqual(p.lines(line(5, 'stdout', '\u001b[32mgreen\u001b[0m\r\nnext', 'bbbbbbbb-2222')), [
      '  … 3 older lines are no longer kept (bounded retention)',
      '── release of deployment bbbbbbbb ──',
      '[14:05:03]        │ green',
      '[14:05:03]        │ next',
    ]);
  });

  it('says an interruption once, where it resumes, and when it stops following', () => {
    const p = new AppLogPrinter('site-alice');
    assert.deepEqual(p.reconnecting({ attempt: 1, since: 42, reason: 'socket closed' }), [
      '  ⋯ the log stream dropped (socket closed); resuming after line 42',
    ]);
    assert.deepEqual(p.reconnecting({ attempt: 2, since: 42, reason: 'socket closed' }), []);
    assert.match(p.stopped('404 app not found')[0], /stopped following site-alice: 404 app not found/);
    assert.equal(clock('not a date'), '--:--:--');
  });
});
