import assert from 'node:assert/strict';
import { Lazy } from '../../src/lib/lazy';

describe('Lazy', () => {
  it('makes the value once for every caller, and again after a failed attempt', async () => {
    let attempts = 0;
    const lazy = new Lazy(() => {
      attempts++;
      return attempts === 1 ? Promise.reject(new Error('not yet')) : Promise.resolve(`made ${String(attempts)}`);
    });
    assert.equal(lazy.started, false);
    await assert.rejects(lazy.get(), /not yet/);
    assert.equal(lazy.started, false, 'a failed attempt is forgotten');
    const [a, b] = await Promise.all([lazy.get(), lazy.get()]);
    assert.equal(a, 'made 2');
    assert.equal(b, 'made 2');
    assert.equal(attempts, 2);
  });

  it('take() hands the value over and the next get() makes a new one', async () => {
    let attempts = 0;
    const lazy = new Lazy(() => Promise.resolve(++attempts));
    assert.equal(lazy.take(), undefined);
    assert.equal(await lazy.get(), 1);
    assert.equal(await lazy.take(), 1);
    assert.equal(lazy.started, false);
    assert.equal(await lazy.get(), 2);
  });
});
