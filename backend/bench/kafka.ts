import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import WebSocket from 'ws';
import { KafkaBus } from '../src/adapters/bus/kafka/kafkaBus';
import { MemoryBus } from '../src/adapters/bus/memory/memoryBus';
import type { EventBus } from '../src/ports/bus';
import { Cluster, deleteTopics, KAFKA_FIXTURES } from '../test/kafka/cluster';
import { World } from '../test/helpers/world';

/**
 * Distributed-mode benchmarks, each against the in-process bus measured in the same run:
 * - event hop latency (publish → handler start) over Kafka and over MemoryBus;
 * - build output → WebSocket latency (a build's line written → the line received by a log client);
 * - deployments per minute with one and with two Buildrelay processes.
 * Needs a broker: `scripts/kafka.sh up && eval "$(scripts/kafka.sh env)"`.
 */
export async function benchKafka(): Promise<void> {
  const brokers = (process.env.CLOUDSMITH_TEST_KAFKA ?? process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
  if (brokers.length === 0) {
    console.log('\nKafka benchmarks skipped: set CLOUDSMITH_TEST_KAFKA (scripts/kafka.sh env)');
    return;
  }
  const prefix = `cs-bench-${randomUUID().slice(0, 8)}.`;
  try {
    await hopLatency(brokers, prefix);
    await logLatency(brokers, prefix);
    await throughput(brokers);
  } finally {
    await deleteTopics(brokers, prefix).catch(() => undefined);
  }
}

const HOPS = 300;
const WARMUP = 30;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function stats(samples: number[]): { p50: number; p99: number; n: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), n: sorted.length };
}

function row(cells: Array<string | number>): string {
  return cells.map((c, i) => (typeof c === 'number' ? c.toFixed(2) : c).padEnd(i === 0 ? 34 : 14)).join('');
}

/** Sequential hops: each event is published only after the previous one reached its handler, so queueing never inflates the number. */
async function hops(bus: EventBus): Promise<number[]> {
  let arrived: (() => void) | undefined;
  await bus.subscribe('deployment.cancel', { group: `bench-${randomUUID().slice(0, 6)}`, latestOnly: true }, async () =>
    arrived?.(),
  );
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + HOPS; i++) {
    const reached = new Promise<void>((resolve) => (arrived = resolve));
    const t0 = performance.now();
    await bus.publish('deployment.cancel', {
      eventId: `hop-${i}`,
      deploymentId: `bench-${i % 8}`,
      at: new Date().toISOString(),
    });
    await reached;
    if (i >= WARMUP) samples.push(performance.now() - t0);
  }
  await bus.close();
  return samples;
}

async function hopLatency(brokers: string[], prefix: string): Promise<void> {
  const memory = stats(await hops(new MemoryBus()));
  const kafka = stats(
    await hops(
      new KafkaBus({ brokers, clientId: 'cloudsmith-bench', partitions: 6, replicationFactor: 1, topicPrefix: prefix }),
    ),
  );
  console.log(`\nEvent hop latency, publish → handler (${HOPS} sequential events, ms)`);
  console.log(row(['bus', 'p50', 'p99']));
  console.log(row(['memory (in-process)', memory.p50, memory.p99]));
  console.log(row(['kafka (acks=all, idempotent)', kafka.p50, kafka.p99]));
  console.log(row(['ratio kafka / memory', kafka.p50 / memory.p50, kafka.p99 / memory.p99]));
}

/** Deploys the ticking fixture and measures, per build line, its write time (the line's ts) to its arrival on the WebSocket. */
async function lineLatencies(world: World): Promise<number[]> {
  await world.addRepo('alice/ticking', join('..', 'kafka', 'fixtures', 'ticking'));
  const queued = (await world.deploy(world.alice, { repo: 'alice/ticking' })) as { id: string };
  const samples: number[] = [];
  await new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(`${world.url.replace('http', 'ws')}/api/deployments/${queued.id}/logs`, {
      headers: { authorization: `Bearer ${world.alice.token}` },
    });
    let live = false;
    ws.on('message', (data) => {
      const m = JSON.parse((data as Buffer).toString()) as { type: string; ts?: string; text?: string };
      // Only lines that arrive live count; the replay of stored lines at connect time is not a hop.
      if (m.type === 'status') live = true;
      if (m.type === 'log' && live && m.ts && /^tick /.test(m.text ?? '')) samples.push(Date.now() - Date.parse(m.ts));
      if (m.type === 'end') ws.close();
    });
    ws.on('close', () => {
      resolve();
    });
    ws.on('error', reject);
  });
  return samples;
}

async function logLatency(brokers: string[], prefix: string): Promise<void> {
  const results: Array<[string, ReturnType<typeof stats>]> = [];
  for (const [label, env] of [
    ['memory (embedded)', {}],
    [
      'kafka (all roles, one process)',
      { CLOUDSMITH_BUS: 'kafka', KAFKA_BROKERS: brokers.join(','), KAFKA_TOPIC_PREFIX: prefix },
    ],
  ] as Array<[string, Record<string, string>]>) {
    const world = await World.start({ env });
    try {
      results.push([label, stats(await lineLatencies(world))]);
    } finally {
      await world.close();
    }
  }
  console.log('\nBuild output → WebSocket latency (line written by the build → received by a log client, ms)');
  console.log(row(['bus', 'p50', 'p99', 'lines']));
  for (const [label, s] of results) console.log(row([label, s.p50, s.p99, String(s.n)]));
  const [memory, kafka] = [results[0][1], results[1][1]];
  console.log(row(['ratio kafka / memory', kafka.p50 / memory.p50, kafka.p99 / memory.p99]));
}

/** Deployments per minute through separate service processes, with one and then two Buildrelay instances. */
async function throughput(brokers: string[]): Promise<void> {
  const perRound = 10;
  const cluster = await Cluster.start(brokers);
  const rows: string[] = [];
  try {
    await cluster.spawn('api', 'api');
    await cluster.spawn('gitpulse', 'gitpulse');
    await cluster.spawn('docksage', 'docksage');
    for (const builders of [1, 2]) {
      await cluster.spawn(`builder${builders}`, 'buildrelay');
      const repos = Array.from({ length: perRound }, (_, i) => `alice/tp${builders}-${i}`);
      for (const repo of repos) await cluster.addRepo(repo, join(KAFKA_FIXTURES, 'ticking'));
      const started = Date.now();
      const ids = await Promise.all(repos.map((repo) => cluster.deploy('api', repo).then((d) => d.id)));
      const finals = await Promise.all(ids.map((id) => cluster.waitFor('api', id, undefined, 600_000)));
      const minutes = (Date.now() - started) / 60_000;
      const live = finals.filter((d) => d.status === 'live').length;
      // A deploy that did not go live is a finding of its own: say which and why.
      for (const d of finals.filter((f) => f.status !== 'live'))
        console.log(`  ${builders} builder(s): ${d.app} ended ${d.status}${d.error ? `: ${d.error}` : ''}`);
      rows.push(
        row([
          `${builders} builder process${builders > 1 ? 'es' : ''}`,
          perRound / minutes,
          `${live}/${perRound}`,
          String(Math.round(minutes * 60_000)),
        ]),
      );
    }
  } finally {
    await cluster.close();
  }
  console.log(
    `\nDeployments per minute (${perRound} at once, ticking fixture: npm ci + a 5 s build + start; separate processes over Kafka)`,
  );
  console.log(row(['builders', 'deploys/min', 'live', 'wall (ms)']));
  for (const r of rows) console.log(r);
}
