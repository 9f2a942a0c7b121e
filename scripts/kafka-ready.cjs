// Used by scripts/kafka.sh up: exits 0 only once the cluster can serve a consumer group, not merely metadata.
// A fresh broker lists itself in metadata seconds before its group coordinator has loaded __consumer_offsets;
// services started in that window get "The coordinator is loading and hence can't process requests".
//   CLOUDSMITH_KAFKA_BROKERS=host:port,...  CLOUDSMITH_KAFKA_EXPECT=<brokers>  node scripts/kafka-ready.cjs <repo>
// Exit codes: 0 ready, 2 not yet (try again), 3 metadata incomplete.
'use strict';
const repo = process.argv[2];
const { Kafka, logLevel } = require(require.resolve('kafkajs', { paths: [`${repo}/backend`, repo] }));

const brokers = process.env.CLOUDSMITH_KAFKA_BROKERS.split(',');
const expect = Number(process.env.CLOUDSMITH_KAFKA_EXPECT);
// Matches offsets.topic.num.partitions in the server.properties kafka.sh writes.
const OFFSETS_PARTITIONS = 10;
const PROBE_TOPIC = 'kafka-sh.ready-probe';

/** Kafka places a group on partition abs(javaStringHashCode(groupId)) % partitions of __consumer_offsets. */
function offsetsPartition(groupId) {
  let h = 0;
  for (let i = 0; i < groupId.length; i++) h = (Math.imul(31, h) + groupId.charCodeAt(i)) | 0;
  return (h & 0x7fffffff) % OFFSETS_PARTITIONS;
}

/** One group id per __consumer_offsets partition, so every group coordinator is asked. */
function probeGroups() {
  const byPartition = new Map();
  for (let i = 0; byPartition.size < OFFSETS_PARTITIONS; i++) {
    const id = `kafka-sh.ready-probe-${i}`;
    if (!byPartition.has(offsetsPartition(id))) byPartition.set(offsetsPartition(id), id);
  }
  return [...byPartition.values()];
}

async function main() {
  const kafka = new Kafka({
    brokers,
    clientId: 'kafka-sh-ready',
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length < expect || cluster.controller == null) return 3;
    // Every coordinator answers (an error code such as COORDINATOR_LOAD_IN_PROGRESS throws).
    await admin.describeGroups(probeGroups());
    if (!(await admin.listTopics()).includes(PROBE_TOPIC))
      await admin
        .createTopics({
          waitForLeaders: true,
          topics: [{ topic: PROBE_TOPIC, numPartitions: 1, replicationFactor: Math.min(expect, 3) }],
        })
        .catch(() => undefined); // another `up` made it at the same time
    // And a real consumer joins a group: what every service does first.
    const groupId = 'kafka-sh.ready-probe';
    // A short long-poll: disconnect waits for the fetch in flight.
    const consumer = kafka.consumer({ groupId, retry: { retries: 0 }, sessionTimeout: 10000, maxWaitTimeInMs: 100 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: PROBE_TOPIC });
      const joined = new Promise((resolve, reject) => {
        consumer.on(consumer.events.GROUP_JOIN, resolve);
        consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
        setTimeout(() => reject(new Error('no join within 15 s')), 15000).unref();
      });
      await consumer.run({ eachMessage: async () => undefined });
      await joined;
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
    return 0;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    if (process.env.CLOUDSMITH_KAFKA_READY_VERBOSE) console.error(err);
    process.exit(2);
  },
);
