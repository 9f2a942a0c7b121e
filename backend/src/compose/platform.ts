import { randomUUID } from 'node:crypto';
import type { Router } from 'express';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config';
import { dataPath } from '../config';
import { errorMessage } from '../domain/errors';
import type { EventBus } from '../ports/bus';
import type { Builder } from '../ports/builder';
import type { SourceHost } from '../ports/source';
import type { Store } from '../ports/store';
import { TokenGate } from '../api/auth';
import { SoleOwner } from '../api/soleOwner';
import { LogHub } from '../api/logHub';
import { MetricsRegistry } from '../metrics/appMetrics';
import { BusMetrics } from '../metrics/busMetrics';
import { MetricsPublisher } from '../metrics/metricsPublisher';
import type { AppMetricsView } from '../ports/metrics';
import { RuntimeLogHub } from '../runtimeLogs/runtimeLogHub';
import { RuntimeLogWriter } from '../runtimeLogs/runtimeLogWriter';
import { AppTelemetry } from '../runtimeLogs/telemetry';
import { Operations } from '../api/operations';
import type { RouteDeps } from '../api/routes';
import { createPlatformServer, type ReverseProxy } from '../api/server';
import { HookSettingsRepo } from '../api/webhooks/hookSettings';
import { webhookRouter } from '../api/webhooks/router';
import { createReverseProxy } from '../proxy/reverseProxy';
import { RouteTable } from '../proxy/routes';
import { runsUserCodeHere, startSandbox } from '../sandbox/startup';
import { securePlatformDirs } from '../security/privileges';
import { loadOrCreateSecret, Sealer } from '../security/sealer';
import { Authspire } from '../services/authspire/authspire';
import { buildrelayHandler } from '../services/buildrelay/buildrelay';
import { docksageHandler, restoreLiveApps } from '../services/docksage/docksage';
import { gitpulseHandler } from '../services/gitpulse/gitpulse';
import { Cancellations } from '../services/shared/cancellations';
import { DeploymentLog } from '../services/shared/deploymentLog';
import { consoleLogger, type Logger } from '../lib/logger';
import type { StageDeps } from '../services/shared/stage';
import { githubReporter } from '../previews/githubReporter';
import { PreviewDeploys } from '../previews/previewDeploys';
import { PreviewRegistry } from '../previews/previewRegistry';
import {
  createArtifacts,
  createBuilder,
  createBus,
  createRepoWrites,
  createRuntime,
  createSource,
  createStore,
} from './adapters';
import { lambdaOwnsRelease } from './releaseOwner';

export const ROLES = ['api', 'gitpulse', 'buildrelay', 'docksage'] as const;
export type Role = (typeof ROLES)[number];

export interface PlatformOptions {
  config: Config;
  /** Which services run in this process; all of them in embedded mode. */
  roles?: readonly Role[];
  /** Tests inject stand-ins only where no real peer exists (a Jenkins stand-in's builder, say). */
  builder?: Builder;
  source?: SourceHost;
  /** Tests share one in-process bus between platforms of different roles, as processes share Kafka (the platform closes it). */
  bus?: EventBus;
  logger?: Logger;
}

export interface Platform {
  /** The API's base URL (or the proxy's, for a Docksage-only process). */
  url: string;
  port: number;
  config: Config;
  store: Store;
  bus: EventBus;
  close(): Promise<void>;
}

/** The composition root: configuration in, adapters chosen, services wired, one HTTP port out. */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const { config } = options;
  const roles = new Set<Role>(options.roles ?? ROLES);
  const embedded = roles.size === ROLES.length && config.bus === 'memory';
  const logger = options.logger ?? consoleLogger([...roles].join('+'));
  const instanceId = randomUUID().slice(0, 8);
  securePlatformDirs(config.dataDir, logger);
  const sealer = new Sealer(loadOrCreateSecret(config.secretKey, dataPath(config, 'secret.key')));

  // Before anything runs: it also kills builds and apps a previous run of this platform left behind.
  const sandbox = runsUserCodeHere(config, roles, options.builder !== undefined)
    ? await startSandbox(config, logger)
    : undefined;
  const store = createStore(config);
  await store.init();
  const bus = options.bus ?? createBus(config, logger);
  const artifacts = createArtifacts(config);
  const source = options.source ?? createSource(config);
  const log = new DeploymentLog(store, bus);
  const cancellations = new Cancellations();
  const stageDeps: StageDeps = { store, bus, log, logger, cancellations };
  const closers: Array<() => Promise<void> | void> = [];

  bus.onDeadLetter(async (topic, event, error) => {
    const reason = `the ${topic} step failed repeatedly: ${error.message}`;
    log.write(event.deploymentId, 'system', `error: ${reason}`);
    await log.moveTo(event.deploymentId, 'failed', { error: reason });
  });

  if (embedded) await failInterrupted(store, log);

  const stageRoles = (['gitpulse', 'buildrelay', 'docksage'] as const).filter((r) => roles.has(r));
  if (stageRoles.length > 0) {
    await bus.subscribe('deployment.cancel', { group: `cancel-${instanceId}`, latestOnly: true }, async (event) => {
      cancellations.cancel(event.deploymentId);
    });
  }

  const workDir = dataPath(config, 'work');
  if (roles.has('gitpulse')) {
    const handler = gitpulseHandler({
      ...stageDeps,
      source,
      artifacts,
      sealer,
      workDir,
      fetchTimeoutMs: config.build.timeoutMs,
    });
    await bus.subscribe('deployment.requested', { group: 'gitpulse' }, handler);
  }
  if (roles.has('buildrelay')) {
    const builder = options.builder ?? createBuilder(config, { artifacts, sealer, workDir, sandbox });
    await bus.subscribe(
      'source.fetched',
      { group: 'buildrelay' },
      buildrelayHandler({ ...stageDeps, builder, artifacts, sealer, workDir }),
    );
    // Every builder instance may keep a cache of the app, so each one hears this.
    if (builder.forget) {
      await bus.subscribe('app.removed', { group: `forget-${instanceId}`, latestOnly: true }, async (event) => {
        await builder.forget?.(event.app);
      });
    }
  }

  let port = 0;
  const routes = new RouteTable();
  let proxy: ReverseProxy | undefined;
  let restore: (() => Promise<void>) | undefined;
  // Requests, latency, memory and restarts of the apps. One source of truth per mode: embedded, the API reads the
  // registry of the proxy and runtime beside it; otherwise every process that runs them reports on `app.metrics` and
  // every API process answers from those reports (on Kafka another replica may hold the traffic even when this
  // process runs Docksage too).
  const metricsOverBus = config.bus !== 'memory' || !(roles.has('api') && roles.has('docksage'));
  let metrics: AppMetricsView | undefined;
  let sampleUsage: (() => Promise<void>) | undefined;
  if (roles.has('docksage')) {
    const urlFor = (app: string) => appUrl(config, app, port);
    const runtime = createRuntime(config, { artifacts, routes, urlFor, sandbox });
    const appMetrics = (metrics = new MetricsRegistry());
    if (runtime.name === 'process' || runtime.name === 'docker')
      proxy = createReverseProxy({
        routes,
        appDomain: config.appDomain,
        onRequest: (app, status, ms) => {
          appMetrics.recordRequest(app, status, ms);
        },
      });
    if (metricsOverBus) {
      const publisher = new MetricsPublisher({ registry: appMetrics, bus, source: instanceId, logger });
      publisher.start();
      closers.push(() => {
        publisher.stop();
      });
    }
    const telemetry = new AppTelemetry(new RuntimeLogWriter({ store, bus, logger }), appMetrics);
    telemetry.startSampling(runtime);
    sampleUsage = () => telemetry.sample(runtime);
    closers.push(() => runtime.close());
    // After the runtime's close: the apps' "stopped" lines are flushed too.
    closers.push(() => telemetry.close());
    const docksage = { ...stageDeps, runtime, sealer, telemetry };
    const release = docksageHandler(docksage);
    await bus.subscribe('build.completed', { group: 'docksage' }, async (event) => {
      if (!lambdaOwnsRelease(config, event)) return release(event);
      logger.info('release left to the artifact-uploaded Lambda', { deploymentId: event.deploymentId });
    });
    // Every Docksage instance may hold the app (its own processes or containers), so each one hears this.
    await bus.subscribe('app.removed', { group: `remove-${instanceId}`, latestOnly: true }, async (event) => {
      await runtime.remove(event.app);
      await telemetry.removed(event.app);
    });
    restore = () => restoreLiveApps(docksage);
  }
  // After the runtime's own close (closers run in order): it stops apps gracefully first.
  if (sandbox) closers.push(() => sandbox.close());

  let logHub: LogHub | undefined;
  let runtimeLogHub: RuntimeLogHub | undefined;
  let routeDeps: RouteDeps | undefined;
  let webhooks: Router | undefined;
  if (roles.has('api')) {
    const authspire = new Authspire(source);
    // One process runs both the API and unsandboxed user code only in the embedded mode that a laptop starts.
    const soleOwner =
      sandbox && !sandbox.isolated && !config.allowUnsandboxed ? new SoleOwner(dataPath(config, 'owner')) : undefined;
    const gate = new TokenGate(authspire, { soleOwner });
    logHub = new LogHub({ store, gate, logger });
    const hub = logHub;
    await bus.subscribe('deployment.logs', { group: `api-${instanceId}`, latestOnly: true }, async (event) => {
      hub.dispatch(event);
    });
    const runtimeHub = (runtimeLogHub = new RuntimeLogHub({ store, gate, logger }));
    await bus.subscribe('app.logs', { group: `api-logs-${instanceId}`, latestOnly: true }, async (event) => {
      runtimeHub.dispatch(event);
    });
    if (metricsOverBus) {
      const reports = (metrics = new BusMetrics());
      await bus.subscribe('app.metrics', { group: `api-metrics-${instanceId}`, latestOnly: true }, async (event) => {
        reports.apply(event);
      });
      await bus.subscribe('app.removed', { group: `api-forget-${instanceId}`, latestOnly: true }, async (event) => {
        reports.forget(event.app);
      });
    }
    const hooks = new HookSettingsRepo(store, sealer);
    const registry = new PreviewRegistry(store);
    const writes = createRepoWrites(config);
    const operations = new Operations({ store, bus, log, sealer, authspire, hooks, previews: registry });
    routeDeps = {
      operations,
      gate,
      store,
      logger,
      telemetry: { metrics, sample: metricsOverBus ? undefined : sampleUsage },
    };
    const maxPreviews = config.previews.maxPerApp;
    const previews = new PreviewDeploys({ store, operations, registry, writes, logger, maxPerApp: maxPreviews });
    webhooks = webhookRouter({ ...routeDeps, authspire, hooks, previews, writes, maxPreviews });
    // A group shared by every API instance: each status change is reported to GitHub once, in order per deployment.
    await bus.subscribe(
      'deployment.logs',
      { group: 'github-status' },
      githubReporter({ store, hooks, registry, writes, logger }),
    );
  }

  const server = createPlatformServer({
    routes: routeDeps,
    webhooks,
    logHub,
    runtimeLogHub,
    proxy,
    logger,
    health: () => ({ mode: config.mode, roles: [...roles], instance: instanceId }),
  });
  const listenPort = roles.has('api') ? config.port : config.proxyPort;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, config.host, resolve);
  });
  port = (server.address() as AddressInfo).port;
  logger.info('listening', { url: `http://${config.host}:${port}`, roles: [...roles] });
  // Live apps come back after the server listens, so their URLs carry the real port.
  await restore?.().catch((err: unknown) => {
    logger.error('restore failed', { error: errorMessage(err) });
  });

  let closed = false;
  return {
    url: `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`,
    port,
    config,
    store,
    bus,
    async close() {
      if (closed) return;
      closed = true;
      cancellations.cancelAll();
      logHub?.close();
      runtimeLogHub?.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
      await bus.close();
      for (const close of closers) await close();
      await store.close();
    },
  };
}

/** `http://<app>.localhost:<port>` by default; a template such as `https://{app}.apps.example.com` behind a load balancer. */
export function appUrl(config: Config, app: string, port: number): string {
  if (config.publicUrlTemplate) return config.publicUrlTemplate.replace('{app}', app);
  return `http://${app}.${config.appDomain}:${port}`;
}

/** One process owned every stage, so nothing in flight survived its restart: say so instead of leaving it stuck. */
async function failInterrupted(store: Store, log: DeploymentLog): Promise<void> {
  for (const deployment of await store.listInFlight()) {
    log.write(
      deployment.id,
      'system',
      'error: interrupted: the platform restarted while this deployment was in progress; deploy again',
    );
    await log.moveTo(deployment.id, 'failed', {
      error: 'interrupted: the platform restarted while this deployment was in progress',
    });
  }
}
