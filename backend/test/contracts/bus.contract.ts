import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { CancelRequested, Topic, TopicEvents } from '../../src/domain/events';
import type { EventBus } from '../../src/ports/bus';

export interface BusFixture {
  bus: EventBus;
  /**
   * Another instance joined to the same broker (another process, in production): groups span instances.
   * Buses it makes must be closed by `cleanup`.
   */
  makeSecondBus?(): Promise<EventBus>;
  /** Closes every bus the fixture made; must tolerate a bus the test already closed. */
  cleanup(): Promise<void>;
}

/** Generous: a real broker's consumer-group joins and rebalances take seconds. */
const TIMEOUT_MS = 60_000;
const TOPIC: Topic = 'deployment.cancel';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * What every EventBus adapter must do. The factory should configure at least 3 handler attempts and short
 * retry delays (tens of ms). Topics are shared across tests (and, on a broker, across runs), so every test
 * uses its own groups and deployment ids and ignores anything else it receives.
 */
export function describeBusContract(
  name: string,
  factory: () => Promise<BusFixture>,
  // Whether the adapter can join several instances (processes) to one broker; the fixture then makes the second.
  { multiInstance = false }: { multiInstance?: boolean } = {},
): void {
  describe(`EventBus contract: ${name}`, function () {
    this.timeout(4 * TIMEOUT_MS);
    let fx: BusFixture;
    let run: string;

    beforeEach(async function () {
      fx = await factory();
      run = `c${randomUUID().slice(0, 8)}`;
    });
    afterEach(async function () {
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the hook that sets it failed
      await fx?.cleanup();
    });

    const event = (deploymentId: string, n: number | string): CancelRequested => ({
      eventId: `${deploymentId}:${n}`,
      deploymentId,
      at: new Date().toISOString(),
    });
    const dep = (i: number | string): string => `${run}-d${i}`;
    const group = (g: string): string => `contract-${run}-${g}`;
    const mine = (e: { deploymentId: string }): boolean => e.deploymentId.startsWith(`${run}-`);
    const isProbe = (e: { deploymentId: string }): boolean => e.deploymentId.startsWith(`${run}-probe`);

    /**
     * Members of a test's subscriptions. Each handler swallows probes (marking its member ready) and
     * events of other tests; `ready` publishes probes with varied keys until every member has seen one,
     * so every member has joined its group and owns some partitions before the real events go out.
     */
    const members: boolean[] = [];
    let probes = 0;
    beforeEach(function () {
      members.length = 0;
      probes = 0;
    });
    const member = <T extends Topic>(fn: (e: TopicEvents[T]) => Promise<void>) => {
      const idx = members.push(false) - 1;
      return async (e: TopicEvents[T]): Promise<void> => {
        if (!mine(e)) return;
        if (isProbe(e)) {
          members[idx] = true;
          return;
        }
        await fn(e);
      };
    };
    const ready = async (publisher: EventBus): Promise<void> => {
      const deadline = Date.now() + TIMEOUT_MS;
      while (!members.every(Boolean)) {
        if (Date.now() > deadline) throw new Error('subscriptions never became ready (no probe reached every member)');
        await publisher.publish(TOPIC, event(`${run}-probe${probes++}`, 'probe'));
        const until = Date.now() + 300;
        while (!members.every(Boolean) && Date.now() < until) await sleep(10);
      }
    };

    it('delivers a published event to a subscriber, intact', async function () {
      const got: CancelRequested[] = [];
      await fx.bus.subscribe(
        TOPIC,
        { group: group('a') },
        member<'deployment.cancel'>(async (e) => void got.push(e)),
      );
      await ready(fx.bus);
      const sent = event(dep(1), 1);
      await fx.bus.publish(TOPIC, sent);
      await waitFor(() => got.length >= 1, 'the event');
      assert.deepEqual(got[0], sent);
    });

    it('publish does not wait for handlers', async function () {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const started: string[] = [];
      await fx.bus.subscribe(
        TOPIC,
        { group: group('a') },
        member<'deployment.cancel'>(async (e) => {
          started.push(e.eventId);
          await gate;
        }),
      );
      await ready(fx.bus);
      await fx.bus.publish(TOPIC, event(dep(1), 1));
      await waitFor(() => started.length === 1, 'the handler to start');
      // The handler is blocked; publishing more for the same deployment must still return.
      await fx.bus.publish(TOPIC, event(dep(1), 2));
      await fx.bus.publish(TOPIC, event(dep(2), 1));
      release();
      await waitFor(() => started.length === 3, 'all handlers');
    });

    it('keeps per-deployment order, one at a time, across many concurrent deployments', async function () {
      const deployments = 20;
      const perDeployment = 25;
      const seen = new Map<string, number[]>();
      const active = new Map<string, number>();
      let overlap = 0;
      let handled = 0;
      await fx.bus.subscribe(
        TOPIC,
        { group: group('order') },
        member<'deployment.cancel'>(async (e) => {
          const n = (active.get(e.deploymentId) ?? 0) + 1;
          active.set(e.deploymentId, n);
          if (n > 1) overlap++;
          await sleep(Math.floor(Math.random() * 3));
          const list = seen.get(e.deploymentId) ?? [];
          list.push(Number(e.eventId.split(':')[1]));
          seen.set(e.deploymentId, list);
          active.set(e.deploymentId, n - 1);
          handled++;
        }),
      );
      await ready(fx.bus);
      const publishes: Promise<void>[] = [];
      for (let i = 0; i < perDeployment; i++) {
        for (let d = 0; d < deployments; d++) publishes.push(fx.bus.publish(TOPIC, event(dep(d), i)));
        // Sequential per deployment: only a publish that returned is ordered before the next one.
        await Promise.all(publishes.splice(0));
      }
      await waitFor(() => handled >= deployments * perDeployment, `${deployments * perDeployment} events`);
      assert.equal(overlap, 0, 'a deployment never has two events in a handler at once');
      for (let d = 0; d < deployments; d++) {
        // At-least-once: a redelivery may repeat an event; the first sightings must be in order and complete.
        const firsts = [...new Set(seen.get(dep(d)))];
        assert.deepEqual(
          firsts,
          Array.from({ length: perDeployment }, (_, i) => i),
          `order of ${dep(d)}`,
        );
      }
    });

    const splitTest = async (second: EventBus): Promise<void> => {
      const byMember = [new Map<string, number>(), new Map<string, number>()];
      const handlerFor = (idx: number) =>
        member<'deployment.cancel'>(async (e) => {
          byMember[idx].set(e.eventId, (byMember[idx].get(e.eventId) ?? 0) + 1);
        });
      await fx.bus.subscribe(TOPIC, { group: group('split') }, handlerFor(0));
      await second.subscribe(TOPIC, { group: group('split') }, handlerFor(1));
      await ready(fx.bus);
      const total = 40;
      await Promise.all(Array.from({ length: total }, (_, d) => fx.bus.publish(TOPIC, event(dep(d), 0))));
      const count = (): number => byMember[0].size + byMember[1].size;
      await waitFor(() => count() >= total, `${total} events across the group`);
      // A duplicate would come from a redelivery of its partition, which replays in order: once a sentinel
      // published after each event (same deployment, so same partition) has been handled, its duplicate would
      // have been too.
      await Promise.all(Array.from({ length: total }, (_, d) => fx.bus.publish(TOPIC, event(dep(d), 'sentinel'))));
      const sentinelsHandled = (): boolean =>
        Array.from({ length: total }, (_, d) => `${dep(d)}:sentinel`).every((id) => byMember.some((m) => m.has(id)));
      await waitFor(sentinelsHandled, `${total} sentinels across the group`);
      for (let d = 0; d < total; d++) {
        const id = `${dep(d)}:0`;
        const times = (byMember[0].get(id) ?? 0) + (byMember[1].get(id) ?? 0);
        assert.equal(times, 1, `${id} handled exactly once in the group`);
      }
      assert.ok(
        byMember[0].size > 0 && byMember[1].size > 0,
        `both members got work (${byMember[0].size} / ${byMember[1].size})`,
      );
    };

    it('splits a group between two subscribers, each event handled once', async function () {
      await splitTest(fx.bus);
    });

    if (multiInstance) {
      it('splits a group across two bus instances (separate processes)', async function () {
        assert.ok(fx.makeSecondBus !== undefined, 'a multi-instance fixture provides makeSecondBus');
        await splitTest(await fx.makeSecondBus());
      });
    }

    it('delivers every event to each of two groups', async function () {
      const a = new Set<string>();
      const b = new Set<string>();
      await fx.bus.subscribe(
        TOPIC,
        { group: group('g1') },
        member<'deployment.cancel'>(async (e) => void a.add(e.eventId)),
      );
      await fx.bus.subscribe(
        TOPIC,
        { group: group('g2'), latestOnly: true },
        member<'deployment.cancel'>(async (e) => void b.add(e.eventId)),
      );
      await ready(fx.bus);
      const total = 10;
      await Promise.all(Array.from({ length: total }, (_, d) => fx.bus.publish(TOPIC, event(dep(d), 0))));
      await waitFor(() => a.size >= total && b.size >= total, 'both groups to get every event');
      assert.deepEqual([...a].sort(), [...b].sort());
    });

    it('retries a throwing handler with backoff until it succeeds', async function () {
      const attempts = new Map<string, number>();
      const done = new Set<string>();
      const dead: string[] = [];
      fx.bus.onDeadLetter(async (_t, e) => {
        if (mine(e)) dead.push(e.eventId);
      });
      await fx.bus.subscribe(
        TOPIC,
        { group: group('retry') },
        member<'deployment.cancel'>(async (e) => {
          const n = (attempts.get(e.eventId) ?? 0) + 1;
          attempts.set(e.eventId, n);
          if (n < 3) throw new Error(`transient failure ${n}`);
          done.add(e.eventId);
        }),
      );
      await ready(fx.bus);
      const sent = event(dep(1), 1);
      await fx.bus.publish(TOPIC, sent);
      await waitFor(() => done.has(sent.eventId), 'the third attempt to succeed');
      assert.equal(attempts.get(sent.eventId), 3);
      assert.deepEqual(dead, []);
    });

    it('sends an event to the dead-letter handler once retries are exhausted, and moves on', async function () {
      const attempts = new Map<string, number>();
      const dead: Array<{ topic: Topic; eventId: string; message: string }> = [];
      const handled: string[] = [];
      fx.bus.onDeadLetter(async (topic, e, err) => {
        if (mine(e)) dead.push({ topic, eventId: e.eventId, message: err.message });
      });
      await fx.bus.subscribe(
        TOPIC,
        { group: group('dlq') },
        member<'deployment.cancel'>(async (e) => {
          attempts.set(e.eventId, (attempts.get(e.eventId) ?? 0) + 1);
          if (e.eventId.endsWith(':poison')) throw new Error('permanent failure');
          handled.push(e.eventId);
        }),
      );
      await ready(fx.bus);
      const poison = event(dep(1), 'poison');
      const next = event(dep(1), 'next');
      await fx.bus.publish(TOPIC, poison);
      await fx.bus.publish(TOPIC, next);
      await waitFor(() => dead.length >= 1, 'the dead-letter handler');
      assert.equal(dead[0].topic, TOPIC);
      assert.equal(dead[0].eventId, poison.eventId);
      assert.match(dead[0].message, /permanent failure/);
      assert.ok((attempts.get(poison.eventId) ?? 0) >= 2, 'retried before giving up');
      await waitFor(() => handled.includes(next.eventId), 'the deployment’s next event after the dead letter');
    });

    it('close() waits for in-flight handlers to finish', async function () {
      let started = false;
      let finished = false;
      await fx.bus.subscribe(
        TOPIC,
        { group: group('close') },
        member<'deployment.cancel'>(async () => {
          started = true;
          await sleep(300);
          finished = true;
        }),
      );
      await ready(fx.bus);
      await fx.bus.publish(TOPIC, event(dep(1), 1));
      await waitFor(() => started, 'the handler to start');
      await fx.bus.close();
      assert.equal(finished, true, 'close returned before the handler finished');
    });
  });
}
