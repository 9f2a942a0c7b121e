import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { fetchApp } from '../test/helpers/appFetch';
import { World } from '../test/helpers/world';
import { directDeploy } from './direct';

/**
 * `npm run bench`: the platform's overhead, as ratios against a baseline measured in the same run.
 * Deploys the node-express fixture (real dependencies from the npm registry) cold (empty npm cache)
 * and warm, and does the same clone + install + start directly with a script.
 */
async function firstLogLine(world: World, id: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${world.url.replace('http', 'ws')}/api/deployments/${id}/logs`, { headers: { authorization: `Bearer ${world.alice.token}` } });
    ws.on('message', (data) => {
      if ((JSON.parse(String(data)) as { type: string }).type === 'log') {
        resolve(Date.now());
        ws.close();
      }
    });
    ws.on('error', reject);
  });
}

interface PlatformRun {
  totalMs: number;
  firstLogMs: number;
  stages: string;
}

async function platformDeploy(world: World, repo: string): Promise<PlatformRun> {
  const started = Date.now();
  const queued = await world.deploy(world.alice, { repo });
  const firstLog = firstLogLine(world, queued.id);
  const done = await world.waitFor(world.alice, queued.id, ['live', 'failed'], 300_000);
  if (done.status !== 'live') throw new Error(`bench deployment failed: ${done.error}`);
  for (;;) {
    if ((await fetchApp(done.url)).status === 200) break;
  }
  const t = done.timings as Record<string, number>;
  return { totalMs: Date.now() - started, firstLogMs: (await firstLog) - started, stages: `fetch ${t.fetchMs} / build ${t.buildMs} / deploy ${t.deployMs}` };
}

function row(cells: Array<string | number>): string {
  return cells.map((c, i) => String(c).padEnd(i === 0 ? 34 : 14)).join('');
}

async function benchPlatform(): Promise<void> {
  const world = await World.start();
  const directHome = mkdtempSync(join(tmpdir(), 'bench-home-'));
  try {
    await world.addRepo('alice/bench-api', 'node-express');
    const cloneUrl = world.git.cloneUrl('alice/bench-api');
    console.log('\nDeploy overhead: POST to URL serving, vs the same clone + npm ci + start done by a script');
    console.log(row(['run', 'direct (ms)', 'platform (ms)', 'ratio', 'first log (ms)', 'platform stages (ms)']));
    for (const label of ['cold (empty npm cache)', 'warm']) {
      const direct = await directDeploy(cloneUrl, world.alice.token, directHome);
      const platform = await platformDeploy(world, 'alice/bench-api');
      console.log(row([label, direct, platform.totalMs, (platform.totalMs / direct).toFixed(2), platform.firstLogMs, platform.stages]));
    }
  } finally {
    rmSync(directHome, { recursive: true, force: true });
    await world.close();
  }
}

async function main(): Promise<void> {
  await benchPlatform();
  if (process.env.CLOUDSMITH_TEST_KAFKA) {
    const { benchKafka } = require('./kafka') as { benchKafka(): Promise<void> };
    await benchKafka();
  } else {
    console.log('\nKafka benchmarks skipped: run `bash scripts/kafka.sh up && eval "$(bash scripts/kafka.sh env)"` first');
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
