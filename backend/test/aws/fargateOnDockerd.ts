import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ContainerDefinition } from '@aws-sdk/client-ecs';
import type { DockerTestEnv } from '../docker/helpers';

const run = promisify(execFile);
const REPO = join(__dirname, '..', '..', '..');

function dockerEnv(docker: DockerTestEnv): NodeJS.ProcessEnv {
  // The classic builder, as scripts/docker.sh uses it (no BuildKit on this engine).
  return { ...process.env, DOCKER_HOST: docker.host, DOCKER_BUILDKIT: '0' };
}

/** The runner image built from terraform/runner on the real dockerd and pushed to the local registry (ECR's stand-in). */
export async function buildRunnerImage(docker: DockerTestEnv): Promise<string> {
  const context = await mkdtemp(join(tmpdir(), 'runner-image-'));
  const image = `${docker.registry}/cloudsmith/runner:test-${randomUUID().slice(0, 8)}`;
  try {
    await run(process.execPath, [join(REPO, 'terraform', 'runner', 'bundle.mjs'), context]);
    const env = dockerEnv(docker);
    await run('docker', ['build', '-q', '--build-arg', `BASE_IMAGE=${docker.baseImage}`, '-t', image, context], {
      env,
      maxBuffer: 16 * 1024 * 1024,
    });
    await run('docker', ['push', '-q', image], { env });
    return image;
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}

interface EngineResponse {
  status: number;
  body: string;
}

/** One Docker Engine API call over the engine's unix socket. */
function engine(docker: DockerTestEnv, method: string, path: string, body?: unknown): Promise<EngineResponse> {
  const socketPath = docker.host.replace(/^unix:\/\//, '');
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath, method, path, headers: body ? { 'content-type': 'application/json' } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: text });
        });
      },
    );
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

const SECOND_NS = 1_000_000_000;

export interface RunningTask {
  id: string;
  /** Host port the container port of the task definition's port mapping is published on (127.0.0.1). */
  hostPort: number;
  health(): Promise<string>;
  logs(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Runs a container definition exactly as ECS registered it: image (pulled by digest), command, environment, port
 * mapping and health check. This replaces Fargate, which moto does not have: what would run there runs here.
 */
export async function runContainerDefinition(docker: DockerTestEnv, def: ContainerDefinition): Promise<RunningTask> {
  if (!def.image) throw new Error('the container definition has no image');
  await run('docker', ['pull', '-q', def.image], { env: dockerEnv(docker) });
  const port = def.portMappings?.[0]?.containerPort;
  if (!port) throw new Error('the container definition maps no port');
  const hc = def.healthCheck;
  const created = await engine(docker, 'POST', `/containers/create?name=cs-task-${randomUUID().slice(0, 8)}`, {
    Image: def.image,
    Cmd: def.command,
    Env: (def.environment ?? []).map((e) => `${e.name ?? ''}=${e.value ?? ''}`),
    ExposedPorts: { [`${port}/tcp`]: {} },
    Healthcheck: hc
      ? {
          Test: hc.command,
          Interval: (hc.interval ?? 30) * SECOND_NS,
          Timeout: (hc.timeout ?? 5) * SECOND_NS,
          Retries: hc.retries ?? 3,
          StartPeriod: (hc.startPeriod ?? 0) * SECOND_NS,
        }
      : undefined,
    HostConfig: { PortBindings: { [`${port}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: '' }] } },
  });
  if (created.status !== 201) throw new Error(`docker create: ${created.status} ${created.body}`);
  const id = (JSON.parse(created.body) as { Id: string }).Id;
  const started = await engine(docker, 'POST', `/containers/${id}/start`);
  if (started.status !== 204) throw new Error(`docker start: ${started.status} ${started.body}`);
  const inspect = async () =>
    JSON.parse((await engine(docker, 'GET', `/containers/${id}/json`)).body) as {
      State: { Status: string; ExitCode: number; Health?: { Status: string; Log?: Array<{ Output: string }> } };
      NetworkSettings: { Ports: Record<string, Array<{ HostPort: string }> | null> };
    };
  const hostPort = Number((await inspect()).NetworkSettings.Ports[`${port}/tcp`]?.[0]?.HostPort);
  return {
    id,
    hostPort,
    health: async () => (await inspect()).State.Health?.Status ?? 'none',
    logs: async () => {
      const out = await run('docker', ['logs', id], { env: dockerEnv(docker) });
      const state = (await inspect()).State;
      const probes = (state.Health?.Log ?? []).map((l) => l.Output.trim()).join('\n');
      return `${out.stdout}${out.stderr}\n[state ${state.Status}, exit ${state.ExitCode}; health checks:\n${probes}]`;
    },
    stop: async () => {
      await engine(docker, 'DELETE', `/containers/${id}?force=true`);
    },
  };
}

/** Polls the container's own health check (the one from the task definition) until docker reports healthy. */
export async function waitHealthyTask(task: RunningTask, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await task.health();
    if (status === 'healthy') return;
    if (status === 'unhealthy' || Date.now() > deadline) {
      throw new Error(`the task is ${status}; its output:\n${await task.logs().catch(() => '')}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
