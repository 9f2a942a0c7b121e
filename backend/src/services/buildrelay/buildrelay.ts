import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { unpackStream } from '../../archive/tarball';
import { now, stageEventId, type SourceFetched } from '../../domain/events';
import type { ArtifactStore } from '../../ports/artifacts';
import type { Builder } from '../../ports/builder';
import type { Sealer } from '../../security/sealer';
import { budgetMiB } from '../../logs/logIntake';
import { guardOutput } from '../../logs/outputGuard';
import { previewParent } from '../../previews/previewRegistry';
import { loadAppEnv } from '../shared/appEnv';
import { runStage, STAGES, withTiming, type StageDeps } from '../shared/stage';

export interface BuildrelayDeps extends StageDeps {
  builder: Builder;
  artifacts: ArtifactStore;
  sealer: Sealer;
  workDir: string;
}

/** Buildrelay: turns fetched source into an artifact with the configured builder (local, Docker or Jenkins). */
export function buildrelayHandler(deps: BuildrelayDeps) {
  return (event: SourceFetched) =>
    runStage(deps, event, {
      ...STAGES.build,
      work: async (deployment, signal) => {
        const started = Date.now();
        const env = await loadAppEnv(deps.store, deps.sealer, deployment.app);
        deps.log.addSecrets(deployment.id, [...Object.values(env), deps.sealer.open(event.sealedToken)]);
        await mkdir(deps.workDir, { recursive: true });
        const dir = await mkdtemp(join(deps.workDir, 'build-'));
        try {
          const sourceDir = join(dir, 'src');
          // Checked against its recorded sha256 and unpacked as it downloads: no tarball file in between.
          await unpackStream(await deps.artifacts.open(event.sourceKey), sourceDir);
          deps.log.write(
            deployment.id,
            'build',
            `Building ${deployment.repo}@${event.commitSha.slice(0, 7)} with the ${deps.builder.name} builder`,
          );
          const output = guardOutput(
            signal,
            (text, stage) => deps.log.write(deployment.id, stage, text),
            `the build printed more than its log may keep (${budgetMiB('build')} MiB); it was stopped`,
          );
          const result = await deps.builder
            .build(
              {
                deploymentId: deployment.id,
                app: deployment.app,
                repo: deployment.repo,
                commitSha: event.commitSha,
                sourceDir,
                cloneUrl: event.cloneUrl,
                sealedToken: event.sealedToken,
                overrides: deployment.overrides,
                env,
                // A preview's first build starts from a copy of its production app's cache.
                cacheSeed: await previewParent(deps.store, deployment.app),
              },
              {
                signal: output.signal,
                log: (text, stage = 'build') => {
                  output.log(text, stage);
                },
              },
            )
            .catch((err: unknown) => output.rethrow(err));
          const timings = withTiming(deployment, 'buildMs', started);
          await deps.store.updateDeployment(deployment.id, { artifact: result.artifact, plan: result.plan, timings });
          deps.log.write(deployment.id, 'build', `Build finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
          await deps.log.flush(deployment.id);
          await deps.bus.publish('build.completed', {
            eventId: stageEventId('build.completed', deployment.id),
            deploymentId: deployment.id,
            at: now(),
            artifact: result.artifact,
            plan: result.plan,
          });
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    });
}
