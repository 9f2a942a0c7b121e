import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { now, stageEventId, type DeploymentRequested } from '../../domain/events';
import type { ArtifactStore } from '../../ports/artifacts';
import { sourceKey } from '../../ports/artifacts';
import type { SourceHost } from '../../ports/source';
import { packStream } from '../../archive/tarball';
import type { Sealer } from '../../security/sealer';
import { runStage, STAGES, withTiming, type StageDeps } from '../shared/stage';

export interface GitpulseDeps extends StageDeps {
  source: SourceHost;
  artifacts: ArtifactStore;
  sealer: Sealer;
  workDir: string;
  fetchTimeoutMs: number;
}

/** Gitpulse: resolves the ref to a commit and fetches exactly that commit, shallow, into the artifact store. */
export function gitpulseHandler(deps: GitpulseDeps) {
  return (event: DeploymentRequested) =>
    runStage(deps, event, {
      ...STAGES.fetch,
      work: async (deployment, signal) => {
        const started = Date.now();
        const token = deps.sealer.open(event.sealedToken);
        deps.log.addSecrets(deployment.id, [token]);
        // The API read the repo when it accepted the request; only an event from before that field asks again.
        const cloneUrl = event.cloneUrl ?? (await deps.source.getRepo(token, deployment.repo)).cloneUrl;
        const commitSha = event.commitSha ?? (await deps.source.resolveRef(token, deployment.repo, deployment.ref));
        deps.log.write(
          deployment.id,
          'fetch',
          `Fetching ${deployment.repo}@${deployment.ref} (${commitSha.slice(0, 7)})`,
        );
        await mkdir(deps.workDir, { recursive: true });
        const dir = await mkdtemp(join(deps.workDir, 'fetch-'));
        try {
          await deps.source.fetchCommit(token, {
            cloneUrl,
            commitSha,
            destDir: join(dir, 'src'),
            signal,
            timeoutMs: deps.fetchTimeoutMs,
          });
          const key = sourceKey(deployment.app, commitSha, deployment.id);
          // Packed straight into the store, as a build's artifact is: no tarball file in between.
          await deps.artifacts.put(key, packStream(join(dir, 'src')));
          await deps.store.updateDeployment(deployment.id, {
            commitSha,
            timings: withTiming(deployment, 'fetchMs', started),
          });
          deps.log.write(
            deployment.id,
            'fetch',
            `Fetched ${commitSha} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
          );
          await deps.log.flush(deployment.id);
          await deps.bus.publish('source.fetched', {
            eventId: stageEventId('source.fetched', deployment.id, commitSha),
            deploymentId: deployment.id,
            at: now(),
            commitSha,
            sourceKey: key,
            cloneUrl,
            sealedToken: event.sealedToken,
          });
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    });
}
