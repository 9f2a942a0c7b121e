import assert from 'node:assert/strict';
import { must } from './must';
import { ConnectionMonitor } from '../../src/model/connection';

/** A clock the test advances by hand: the monitor's probes run only when the test says so. */
function fakeTimers() {
  let pending: { fn: () => void; ms: number } | undefined;
  return {
    setTimer: (fn: () => void, ms: number) => {
      pending = { fn, ms };
      return pending;
    },
    clearTimer: (h: unknown) => {
      if (pending === h) pending = undefined;
    },
    get next() {
      return pending;
    },
    fire() {
      const p = pending;
      pending = undefined;
      p?.fn();
    },
  };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('extension: backend connection monitor', () => {
  it('goes offline on a failed probe, probes often while offline, and reports the recovery once', async () => {
    let up = true;
    const timers = fakeTimers();
    const monitor = new ConnectionMonitor({
      probe: () => (up ? Promise.resolve() : Promise.reject(new Error('ECONNREFUSED'))),
      onlineEveryMs: 15_000,
      offlineEveryMs: 2_000,
      setTimer: timers.setTimer,
      clearTimer: timers.clearTimer,
    });
    const seen: Array<[boolean, string | undefined]> = [];
    monitor.onDidChange((online, reason) => seen.push([online, reason]));
    monitor.start();
    assert.equal(must(timers.next).ms, 15_000);
    up = false;
    timers.fire();
    await flush();
    assert.equal(monitor.online, false);
    assert.equal(monitor.offlineReason, 'ECONNREFUSED');
    assert.equal(must(timers.next).ms, 2_000);
    timers.fire();
    await flush();
    assert.equal(seen.length, 1, 'still offline: no second event');
    up = true;
    timers.fire();
    await flush();
    assert.deepEqual(seen, [
      [false, 'ECONNREFUSED'],
      [true, undefined],
    ]);
    assert.equal(must(timers.next).ms, 15_000);
    monitor.dispose();
    assert.equal(timers.next, undefined);
  });

  it('takes reports from other calls: a dropped log stream, a tree refresh', async () => {
    const monitor = new ConnectionMonitor({ probe: () => Promise.resolve(), setTimer: () => 0, clearTimer: () => 0 });
    monitor.reportDown('socket hang up');
    monitor.reportDown('socket hang up');
    assert.equal(monitor.online, false);
    assert.equal(await monitor.check(), true);
    assert.equal(monitor.online, true);
  });
});
