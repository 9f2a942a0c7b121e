import type { DeploymentView } from '@cloudsmith/client';
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
/** Follows the deployment's log socket: when the first line arrived and when the final status did (no polling error). */
function follow(
  world: World,
  id: string,
): Promise<{ firstLogAt: number; endAt: number; status: string; url?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${world.url.replace('http', 'ws')}/api/deployments/${id}/logs`, {
      headers: { authorization: `Bearer ${world.alice.token}` },
    });
    let firstLogAt = 0;
    ws.on('message', (data) => {
      const message = JSON.parse((data as Buffer).toString()) as { type: string; status?: string; url?: string };
      if (message.type === 'log' && !firstLogAt) firstLogAt = Date.now();
      if (message.type === 'end')
        resolve({ firstLogAt, endAt: Date.now(), status: message.status ?? '', url: message.url });
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
  const done = await follow(world, queued.id);
  if (done.status !== 'live' || !done.url) throw new Error(`bench deployment ended ${done.status}`);
  if ((await fetchApp(done.url)).status !== 200) throw new Error('the live URL does not serve');
  const t = (await world.api<DeploymentView>(world.alice, 'GET', `/api/deployments/${queued.id}`)).body.timings;
  return {
    totalMs: done.endAt - started,
    firstLogMs: done.firstLogAt - started,
    stages: `fetch ${t.fetchMs} / build ${t.buildMs} / deploy ${t.deployMs}`,
  };
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
    const runs: Array<{ direct: number; platform: PlatformRun }> = [];
    for (const label of ['cold (empty npm cache)', 'warm 1', 'warm 2', 'warm 3']) {
      const direct = await directDeploy(cloneUrl, world.alice.token, directHome);
      const platform = await platformDeploy(world, 'alice/bench-api');
      if (label.startsWith('warm')) runs.push({ direct, platform });
      console.log(
        row([
          label,
          direct,
          platform.totalMs,
          (platform.totalMs / direct).toFixed(2),
          platform.firstLogMs,
          platform.stages,
        ]),
      );
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const direct = median(runs.map((r) => r.direct));
    const platform = median(runs.map((r) => r.platform.totalMs));
    console.log(
      row([
        'warm median',
        direct,
        platform,
        (platform / direct).toFixed(2),
        median(runs.map((r) => r.platform.firstLogMs)),
        'target ratio <= 1.10',
      ]),
    );
  } finally {
    rmSync(directHome, { recursive: true, force: true });
    await world.close();
  }
}

async function main(): Promise<void> {
  await benchPlatform();
  if (process.env.CLOUDSMITH_TEST_KAFKA) {
    const { benchKafka } = await import('./kafka');
    await benchKafka();
  } else {
    console.log(
      '\nKafka benchmarks skipped: run `bash scripts/kafka.sh up && eval "$(bash scripts/kafka.sh env)"` first',
    );
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
