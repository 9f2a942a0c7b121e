import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  waitUntilServicesStable,
  type ECSClient,
  type Service,
} from '@aws-sdk/client-ecs';
import type { LogFn } from '../../../ports/builder';
import type { EcsRuntimeOptions } from './options';

/** The job of watching a service: its current state, the wait for a steady state, and why a rollout failed. */
export class ServiceWatch {
  constructor(
    private readonly ecs: ECSClient,
    private readonly options: EcsRuntimeOptions,
  ) {}

  async describe(service: string): Promise<Service | undefined> {
    const res = await this.ecs.send(
      new DescribeServicesCommand({ cluster: this.options.cluster, services: [service] }),
    );
    const found = res.services?.find((s) => s.serviceName === service);
    return found && found.status !== 'INACTIVE' ? found : undefined;
  }

  async waitStable(service: string, signal: AbortSignal, log: LogFn): Promise<void> {
    const timeoutMs = this.options.stableTimeoutMs ?? 10 * 60_000;
    if (this.options.emulator) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (signal.aborted) throw new Error('cancelled');
        const s = await this.describe(service);
        if (s?.status === 'ACTIVE' && (s.desiredCount ?? 0) >= this.options.minTasks) break;
        if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)}s`);
        await new Promise((r) => setTimeout(r, 250));
      }
      log(`ECS: service ${service} is ACTIVE (emulator: tasks are not run)`);
      return;
    }
    log(`ECS: waiting up to ${Math.round(timeoutMs / 1000)}s for ${service} to reach a steady state`);
    await waitUntilServicesStable(
      { client: this.ecs, maxWaitTime: Math.ceil(timeoutMs / 1000), minDelay: 5, maxDelay: 15, abortSignal: signal },
      { cluster: this.options.cluster, services: [service] },
    );
    log(`ECS: service ${service} is stable`);
  }

  /** The last service events and stopped tasks' reasons: what a user needs to see when a rollout fails. */
  async failureReason(service: string): Promise<string> {
    try {
      const s = await this.describe(service);
      const events = (s?.events ?? [])
        .slice(0, 3)
        .map((e) => e.message)
        .filter(Boolean);
      const stopped = await this.ecs.send(
        new ListTasksCommand({ cluster: this.options.cluster, serviceName: service, desiredStatus: 'STOPPED' }),
      );
      const arns = (stopped.taskArns ?? []).slice(0, 3);
      const reasons: string[] = [];
      if (arns.length) {
        const tasks = await this.ecs.send(new DescribeTasksCommand({ cluster: this.options.cluster, tasks: arns }));
        for (const t of tasks.tasks ?? []) if (t.stoppedReason) reasons.push(t.stoppedReason);
      }
      return [...reasons, ...events].join('; ');
    } catch {
      return '';
    }
  }
}
