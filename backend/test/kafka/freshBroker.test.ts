import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaBus } from '../../src/adapters/bus/kafka/kafkaBus';
import type { CancelRequested } from '../../src/domain/events';
import { kafkaBasePort, runShell, userEnv, waitUntil } from '../docs/shell';
import { requirePeer } from '../peers';

/**
 * A service subscribing while its broker is still starting (not listening yet, then its group coordinator still
 * loading __consumer_offsets) must wait, not fail: on a fresh `scripts/kafka.sh up`, services used to exit with
 * "The coordinator is loading" and "Consumer group was not initialized". This starts a broker of its own, fresh,
 * beside the shared one, and subscribes before it exists.
 */
describe('KafkaBus on a broker that is still starting', function () {
  this.timeout(400_000);
  const env: Record<string, string> = {};
  let bus: KafkaBus | undefined;
  let state = '';

  before(async function () {
    requirePeer(
      this,
      'kafka',
      process.env.CLOUDSMITH_TEST_KAFKA || undefined,
      'run `bash scripts/kafka.sh up` once (it caches the broker jars this test starts its own broker from)',
    );
    state = mkdtempSync(join(tmpdir(), 'cs-fresh-kafka-'));
    Object.assign(
      env,
      userEnv({ CLOUDSMITH_KAFKA_STATE: state, CLOUDSMITH_KAFKA_PORT: String(await kafkaBasePort()) }),
    );
  });

  after(async () => {
    await bus?.close();
    if (state) {
      await runShell('bash scripts/kafka.sh down', env);
      rmSync(state, { recursive: true, force: true });
    }
  });

  it('subscribe() waits for the broker and its group coordinator, then every group gets its events', async () => {
    const warnings: string[] = [];
    bus = new KafkaBus({
      brokers: [`127.0.0.1:${env.CLOUDSMITH_KAFKA_PORT}`],
      clientId: 'fresh-broker-test',
      partitions: 2,
      replicationFactor: 1,
      topicPrefix: 'fresh.',
      logger: {
        info: () => undefined,
        warn: (message) => warnings.push(message),
        error: (message) => warnings.push(message),
      },
    });
    const durable: string[] = [];
    const fanout: string[] = [];
    // Both kinds of group: a durable one (a stage) and a fan-out one (the API's logs, cancels), which seeks.
    const subscribed = Promise.all([
      bus.subscribe('deployment.cancel', { group: 'stage' }, async (e) => {
        durable.push(e.eventId);
      }),
      bus.subscribe('deployment.cancel', { group: 'fanout', latestOnly: true }, async (e) => {
        fanout.push(e.eventId);
      }),
    ]);
    const up = await runShell('bash scripts/kafka.sh up', env);
    assert.equal(up.code, 0, up.text);
    await subscribed;
    const event = (n: number): CancelRequested => ({
      eventId: `fresh-${String(n)}`,
      deploymentId: `fresh-d${String(n)}`,
      at: new Date().toISOString(),
    });
    for (let n = 0; n < 4; n++) await bus.publish('deployment.cancel', event(n));
    await waitUntil(
      'both groups to get all four events',
      () => (durable.length >= 4 && fanout.length >= 4 ? true : undefined),
      120_000,
      () => warnings.join('\n'),
    );
    assert.deepEqual([...durable].sort(), [...fanout].sort());
  });
});
