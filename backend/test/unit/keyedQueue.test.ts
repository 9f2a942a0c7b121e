import assert from 'node:assert/strict';
import { KeyedQueue } from '../../src/lib/keyedQueue';

/** A promise the test settles by hand, so the order of events is decided by the test, not by timing. */
function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('KeyedQueue', () => {
  it('runs work for one key one at a time, in order, and work for other keys alongside', async () => {
    const queue = new KeyedQueue();
    const events: string[] = [];
    const first = gate();
    const a1 = queue.run('a', async () => {
      events.push('a1 start');
      await first.promise;
      events.push('a1 end');
      return 1;
    });
    const a2 = queue.run('a', async () => {
      events.push('a2 start');
      return 2;
    });
    const b1 = queue.run('b', async () => {
      events.push('b1 start');
      return 3;
    });
    assert.equal(await b1, 3);
    assert.deepEqual(events, ['a1 start', 'b1 start']);
    first.open();
    assert.deepEqual(await Promise.all([a1, a2]), [1, 2]);
    assert.deepEqual(events, ['a1 start', 'b1 start', 'a1 end', 'a2 start']);
  });

  it('goes on after a failure, which reaches only its own caller', async () => {
    const queue = new KeyedQueue();
    const failed = queue.run('a', () => Promise.reject(new Error('boom')));
    const next = queue.run('a', () => Promise.resolve('after'));
    await assert.rejects(failed, /boom/);
    assert.equal(await next, 'after');
  });

  it('idle() waits for the work queued so far', async () => {
    const queue = new KeyedQueue();
    const hold = gate();
    let done = false;
    void queue.run('a', async () => {
      await hold.promise;
      done = true;
    });
    const idle = queue.idle();
    hold.open();
    await idle;
    assert.equal(done, true);
  });
});
