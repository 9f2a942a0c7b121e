import type { RuntimeLogLine } from '@cloudsmith/client';
import { NotFoundError } from '../domain/errors';
import type { AppLogs } from '../domain/events';
import type { RuntimeLogLine as StoredRuntimeLine } from '../domain/runtimeLog';
import { LogStreamHub, type HubDeps } from '../api/logHub';

const PATH = /^\/api\/apps\/([a-z0-9-]{1,63})\/runtime-logs\/stream$/;

/** What a client receives for one line of an app's runtime log. */
export function runtimeLineView(line: StoredRuntimeLine): RuntimeLogLine {
  return { seq: line.seq, at: line.at, deploymentId: line.deploymentId, stream: line.stream, text: line.text };
}

/** `WS /api/apps/:app/runtime-logs/stream?since=`: the app's stored runtime log after `since`, then live lines from `app.logs`. */
export class RuntimeLogHub extends LogStreamHub<StoredRuntimeLine, AppLogs> {
  constructor(deps: HubDeps) {
    super(deps, {
      path: PATH,
      open: async (name, userId) => {
        const app = await deps.store.getApp(name);
        // Another user's app is indistinguishable from a missing one.
        if (!app || app.ownerId !== userId) throw new NotFoundError(`app ${name}`);
        return {
          key: app.name,
          source: {
            readLogs: (after, limit) => deps.store.readRuntimeLogs(app.name, after, limit),
            view: runtimeLineView,
          },
        };
      },
      keyOf: (event) => event.app,
      deliver: (event, session) => {
        session.onLines(event.lines);
      },
    });
  }
}
