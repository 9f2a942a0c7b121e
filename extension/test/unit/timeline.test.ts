import assert from 'node:assert/strict';
import { statusLine, stoppedAt, timeline } from '../../src/model/timeline';

const states = (t: ReturnType<typeof timeline>) => t.map((s) => `${s.stage}:${s.state}${s.current ? '*' : ''}`);

describe('extension: the Launchboard timeline', () => {
  it('marks done stages, the current one (aria-current) and the pending ones, in words', () => {
    const t = timeline({ status: 'building', timings: {} });
    assert.deepEqual(states(t), [
      'queued:done',
      'fetching:done',
      'building:current*',
      'deploying:pending',
      'live:pending',
    ]);
    assert.equal(t[2].text, 'in progress');
    assert.deepEqual(states(timeline({ status: 'live', timings: {} })), [
      'queued:done',
      'fetching:done',
      'building:done',
      'deploying:done',
      'live:done*',
    ]);
  });

  it('marks the stage a deployment failed in, not every stage grey', () => {
    const t = timeline({ status: 'failed', timings: { fetchMs: 10 } }, 'building');
    assert.deepEqual(states(t), [
      'queued:done',
      'fetching:done',
      'building:failed*',
      'deploying:skipped',
      'live:skipped',
    ]);
    assert.equal(t[2].text, 'failed');
    // Without having watched it: the timings say how far it got.
    assert.equal(stoppedAt({ status: 'failed', timings: {} }), 'fetching');
    assert.equal(stoppedAt({ status: 'failed', timings: { fetchMs: 1 } }), 'building');
    assert.equal(stoppedAt({ status: 'failed', timings: { fetchMs: 1, buildMs: 2 } }), 'deploying');
    assert.equal(stoppedAt({ status: 'live', timings: {} }), undefined);
  });

  it('says a rollback needed no fetch and no build', () => {
    const t = timeline({ status: 'live', timings: {}, rollbackOf: 'earlier' });
    assert.deepEqual(states(t), [
      'queued:done',
      'fetching:notNeeded',
      'building:notNeeded',
      'deploying:done',
      'live:done*',
    ]);
    assert.equal(t[1].text, 'not needed (rollback)');
  });

  it('shows a cancelled stage and a crashed app as such', () => {
    assert.deepEqual(states(timeline({ status: 'cancelled', timings: {} }, 'building')).slice(2, 3), [
      'building:cancelled*',
    ]);
    assert.equal(timeline({ status: 'crashed', timings: {} })[4].state, 'crashed');
    assert.deepEqual(states(timeline(undefined)), [
      'queued:pending',
      'fetching:pending',
      'building:pending',
      'deploying:pending',
      'live:pending',
    ]);
  });

  it('sums the state up in one sentence for the live region', () => {
    const d = { repo: 'alice/site', ref: 'main', url: 'http://x.localhost' };
    assert.equal(statusLine({ ...d, status: 'live' }), 'alice/site@main is live at http://x.localhost.');
    assert.equal(
      statusLine({ ...d, status: 'failed' }, 'Error: boom'),
      'Deploy of alice/site@main failed: Error: boom',
    );
    assert.equal(statusLine({ ...d, status: 'building' }), 'alice/site@main: building…');
    assert.equal(statusLine(undefined), '');
  });
});
