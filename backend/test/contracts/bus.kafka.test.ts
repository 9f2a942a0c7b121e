import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaBus } from '../../src/adapters/bus/kafka/kafkaBus';
import type { EventBus } from '../../src/ports/bus';
import { KAFKA_HOW_TO, missingPeer } from '../peers';
import { describeBusContract } from './bus.contract';

const brokers = (process.env.CLOUDSMITH_TEST_KAFKA ?? '')
  .split(',')
  .map((b) => b.trim())
  .filter(Boolean);

describe('KafkaBus (real broker)', function () {
  // A prefix per run: topics and groups from earlier runs on the same broker never leak in.
  const topicPrefix = `cs-test-${randomUUID().slice(0, 8)}.`;

  before(function () {
    if (brokers.length === 0) missingPeer(this, 'kafka', KAFKA_HOW_TO);
  });

  after(async function () {
    if (brokers.length === 0) return;
    const admin = new Kafka({ brokers, clientId: 'cloudsmith-test-cleanup', logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const ours = (await admin.listTopics()).filter((t) => t.startsWith(topicPrefix));
      if (ours.length > 0) await admin.deleteTopics({ topics: ours });
    } finally {
      await admin.disconnect();
    }
  });

  const make = (): KafkaBus =>
    new KafkaBus({
      brokers,
      clientId: 'cloudsmith-test',
      partitions: 4,
      replicationFactor: Math.min(3, brokers.length),
      topicPrefix,
      retry: { attempts: 4, baseMs: 20 },
    });

  describeBusContract(
    'kafka',
    async () => {
      const buses: EventBus[] = [make()];
      return {
        bus: buses[0],
        async makeSecondBus() {
          const second = make();
          buses.push(second);
          return second;
        },
        async cleanup() {
          await Promise.all(buses.map((b) => b.close()));
        },
      };
    },
    { multiInstance: true },
  );
});
