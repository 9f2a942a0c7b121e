import type { DeploymentView } from '@cloudsmith/client';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { fetchApp } from '../test/helpers/appFetch';
import type { World } from '../test/helpers/world';
import { phasesOf, type BenchLogLine, type Phases } from './phases';

interface Followed {
  firstLogAt: number;
  endAt: number;
  status: string;
  url?: string;
}

/** Follows a deployment's log socket: when its first line and its final status arrived. */
function follow(world: World, id: string, onFirstLog?: () => void): Promise<Followed> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${world.url.replace('http', 'ws')}/api/deployments/${id}/logs`, {
      headers: { authorization: `Bearer ${world.alice.token}` },
    });
    let firstLogAt = 0;
    ws.on('message', (data) => {
      const message = JSON.parse((data as Buffer).toString()) as { type: string; status?: string; url?: string };
      if (message.type === 'log' && !firstLogAt) {
        firstLogAt = Date.now();
        onFirstLog?.();
      }
      if (message.type === 'end') {
        ws.close();
        resolve({ firstLogAt, endAt: Date.now(), status: message.status ?? '', url: message.url });
      }
    });
    ws.on('error', reject);
  });
}

export interface PlatformRun {
  id: string;
  app: string;
  totalMs: number;
  /** From POST until the runtime routed traffic to the release (its "Healthy; … now serves" line). */
  servingMs: number;
  phases: Phases;
}

async function logLines(world: World, id: string): Promise<BenchLogLine[]> {
  const res = await world.api<string>(world.alice, 'GET', `/api/deployments/${id}/logs`);
  const raw = typeof res.body === 'string' ? res.body : '';
  return raw
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as BenchLogLine & { type: string })
    .filter((l) => l.type === 'log');
}

async function settled(world: World, id: string, started: number, followed: Followed): Promise<PlatformRun> {
  if (followed.status !== 'live' || !followed.url) {
    const lines = await logLines(world, id);
    throw new Error(`bench deployment ended ${followed.status}:\n${lines.map((l) => l.text).join('\n')}`);
  }
  if ((await fetchApp(followed.url)).status !== 200) throw new Error(`${followed.url} does not serve`);
  const totalMs = Date.now() - started;
  const view = (await world.api<DeploymentView>(world.alice, 'GET', `/api/deployments/${id}`)).body;
  const lines = await logLines(world, id);
  const logDir = process.env.CLOUDSMITH_BENCH_LOGS;
  if (logDir) {
    mkdirSync(logDir, { recursive: true });
    writeFileSync(join(logDir, `${view.app}-${id}.log`), lines.map((l) => `${l.ts} ${l.stage} ${l.text}`).join('\n'));
  }
  const serving = lines.find((l) => l.stage === 'deploy' && l.text.startsWith('Healthy;'));
  const servingMs = serving ? Date.parse(serving.ts) - started : totalMs;
  return { id, app: view.app, totalMs, servingMs, phases: phasesOf(lines) };
}

/** POST /api/deployments → the live URL answering 200, through the real API. */
export async function platformDeploy(world: World, repo: string): Promise<PlatformRun> {
  const started = Date.now();
  const queued = await world.deploy(world.alice, { repo });
  return settled(world, queued.id, started, await follow(world, queued.id));
}

/** POST /api/apps/:app/rollback to `deploymentId` → the app's URL answering 200 again. */
export async function platformRollback(world: World, app: string, deploymentId: string): Promise<PlatformRun> {
  const started = Date.now();
  const res = await world.api<DeploymentView>(world.alice, 'POST', `/api/apps/${app}/rollback`, { deploymentId });
  if (res.status !== 202) throw new Error(`rollback refused: ${res.status} ${JSON.stringify(res.body)}`);
  return settled(world, res.body.id, started, await follow(world, res.body.id));
}

/**
 * POST /api/deployments → the first log line on its socket, then cancelled at once: the ms to that first line, and
 * how much of it the POST's own answer took (it checks the repo and resolves the ref with GitHub first).
 */
export async function firstLogLatency(world: World, repo: string): Promise<{ firstLogMs: number; postMs: number }> {
  const started = Date.now();
  const queued = await world.deploy(world.alice, { repo });
  const postMs = Date.now() - started;
  const cancel = () => void world.api(world.alice, 'POST', `/api/deployments/${queued.id}/cancel`);
  const followed = await follow(world, queued.id, cancel);
  return { firstLogMs: followed.firstLogAt - started, postMs };
}
