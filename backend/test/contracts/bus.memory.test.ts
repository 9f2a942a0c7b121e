import assert from 'node:assert/strict';
import { MemoryBus } from '../../src/adapters/bus/memory/memoryBus';
import type { CancelRequested } from '../../src/domain/events';
import { describeBusContract } from './bus.contract';

describeBusContract('memory', async () => {
  const bus = new MemoryBus({ maxAttempts: 4, retryBaseMs: 20 });
  return { bus, cleanup: () => bus.close() };
});

const ev = (deploymentId: string, n: number): CancelRequested => ({
  eventId: `${deploymentId}:${n}`,
  deploymentId,
  at: new Date().toISOString(),
});
const until = async (cond: () => boolean): Promise<void> => {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
};

describe('MemoryBus specifics', function () {
  it('handles different deployments concurrently', async function () {
    const bus = new MemoryBus();
    let active = 0;
    let peak = 0;
    let done = 0;
    await bus.subscribe('deployment.cancel', { group: 'g' }, async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 20));
      active--;
      done++;
    });
    for (let d = 0; d < 5; d++) await bus.publish('deployment.cancel', ev(`d${d}`, 0));
    await until(() => done === 5);
    assert.ok(peak > 1, `expected overlap across deployments, peak was ${peak}`);
    await bus.close();
  });

  it('does not deliver events published before a group subscribed', async function () {
    const bus = new MemoryBus();
    const got: string[] = [];
    await bus.publish('deployment.cancel', ev('d', 1));
    await bus.subscribe('deployment.cancel', { group: 'late' }, async (e) => void got.push(e.eventId));
    await bus.publish('deployment.cancel', ev('d', 2));
    await until(() => got.length === 1);
    await bus.close();
    assert.deepEqual(got, ['d:2']);
  });

  it('routes one deployment to the same member of a group every time', async function () {
    const bus = new MemoryBus();
    const owner = new Map<string, Set<number>>();
    let done = 0;
    for (const m of [0, 1, 2]) {
      await bus.subscribe('deployment.cancel', { group: 'g' }, async (e) => {
        const s = owner.get(e.deploymentId) ?? new Set<number>();
        s.add(m);
        owner.set(e.deploymentId, s);
        done++;
      });
    }
    for (let i = 0; i < 5; i++) for (let d = 0; d < 10; d++) await bus.publish('deployment.cancel', ev(`d${d}`, i));
    await until(() => done === 50);
    await bus.close();
    for (const [d, s] of owner) assert.equal(s.size, 1, `${d} went to one member`);
  });

  it('close() abandons retries waiting in backoff instead of waiting them out', async function () {
    const errors: string[] = [];
    const bus = new MemoryBus({ retryBaseMs: 60_000, onError: (m) => errors.push(m) });
    let attempts = 0;
    await bus.subscribe('deployment.cancel', { group: 'g' }, async () => {
      attempts++;
      throw new Error('down');
    });
    await bus.publish('deployment.cancel', ev('d', 1));
    await until(() => attempts === 1);
    await bus.close();
    assert.equal(attempts, 1);
    await bus.publish('deployment.cancel', ev('d', 2));
  });

  it('reports an exhausted event when no dead-letter handler is registered', async function () {
    const errors: string[] = [];
    const bus = new MemoryBus({ maxAttempts: 2, retryBaseMs: 1, onError: (m) => errors.push(m) });
    await bus.subscribe('deployment.cancel', { group: 'g' }, async () => {
      throw new Error('boom');
    });
    await bus.publish('deployment.cancel', ev('d', 1));
    await until(() => errors.length === 1);
    await bus.close();
    assert.match(errors[0], /d:1 .* failed 2 times: boom/);
  });
});
