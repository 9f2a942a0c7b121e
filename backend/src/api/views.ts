import type { AppView, DeploymentView, LogLineMessage } from '@cloudsmith/client';
import type { App, Deployment, LogLine } from '../domain/deployment';

/** What clients see: no artifacts' internals, no owner ids, no sealed values. */
export function deploymentView(d: Deployment) {
  return {
    id: d.id,
    app: d.app,
    repo: d.repo,
    ref: d.ref,
    commitSha: d.commitSha ?? null,
    status: d.status,
    url: d.url ?? null,
    error: d.error ?? null,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    timings: d.timings,
    overrides: d.overrides,
    rollbackOf: d.artifact && d.sourceDeploymentId ? d.sourceDeploymentId : null,
  } satisfies DeploymentView;
}

export function appView(app: App) {
  return {
    name: app.name,
    repo: app.repo,
    url: app.url ?? null,
    liveDeploymentId: app.liveDeploymentId ?? null,
    createdAt: app.createdAt,
    ...(app.preview ? { preview: app.preview } : {}),
  } satisfies AppView;
}

export function logView(line: LogLine) {
  return { type: 'log', seq: line.seq, ts: line.ts, stage: line.stage, text: line.text } satisfies LogLineMessage;
}
