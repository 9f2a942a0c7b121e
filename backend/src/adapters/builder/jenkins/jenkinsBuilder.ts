// Long on purpose: one build's whole life on Jenkins (temporary credentials, queue, progressive log, artifact,
// stop and clean-up) shares one Handle; what could stand alone (credentials' XML, env encoding) is in credentials.ts.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArtifactRef } from '../../../domain/deployment';
import { errorMessage, UserFacingError } from '../../../domain/errors';
import { detectPlan, type BuildPlan } from '../../../detect/plan';
import { artifactKey, type ArtifactStore } from '../../../ports/artifacts';
import type { BuildContext, BuildJob, Builder, BuildResult } from '../../../ports/builder';
import type { RunPlan } from '../../../domain/deployment';
import { maskSecrets } from '../../../security/masker';
import { encodeEnv, secretTextXml, usernamePasswordXml } from './credentials';
import { JenkinsClient, sleep } from './jenkinsClient';
import type { JenkinsParameters } from './parameters';
import { runPlanFor } from '../artifactLayout';
import { encodePlan } from '../../artifacts/planMetadata';
import { encodeOutputRules, outputRules, pipelinePlan, type OutputRule } from './plan';
import { remoteCachePrefix, remoteCacheSpec, type RemoteCacheSpec } from '../../../cache/remote';

export interface JenkinsBuilderOptions {
  url: string;
  user: string;
  apiToken: string;
  /** Job name; folders as `folder/job`. */
  job: string;
  /** How often the queue, the log and the result are polled. */
  pollMs: number;
  artifacts: ArtifactStore;
  /** Opens the sealed GitHub token of a build job. */
  openToken: (sealed: string) => string;
  /** Sent as CALLBACK_URL: the pipeline POSTs its result there. */
  callbackUrl?: string;
  /** With a bucket the pipeline uploads to S3 itself (the artifact store must be that bucket); without one it archives the artifact in Jenkins and the adapter collects it. */
  artifactBucket?: string;
  /**
   * The build cache in S3 (jenkins/steps/cache-restore.sh and cache-save.sh): under `cache/<app>/` of `bucket`,
   * keyed by backend/src/cache (lockfiles, commands, the env's HMAC with `salt`, which must stay the same across
   * builds) and the agent's toolchain. Without it every build is cold.
   */
  cache?: { bucket: string; salt: Buffer; maxAppMb: number };
  /** A build still running after this long is stopped. */
  timeoutMs?: number;
  /** Where archived artifacts are downloaded before they enter the artifact store. */
  workDir?: string;
  /** Retries of 5xx and unreachable Jenkins, and the first backoff delay. */
  attempts?: number;
  backoffMs?: number;
}

/** The credentials plugin's store and domain the temporary credentials live in (system store, global domain). */
const CREDENTIALS_STORE = 'credentials/store/system/domain/_';
/** Where package.sh writes the artifact; the Jenkinsfile archives exactly this path. */
const ARCHIVED_ARTIFACT = 'out/artifact.tar.gz';
const ARTIFACT_LINE = /^\[cloudsmith\] artifact sha256=([0-9a-f]{64}) size=(\d+)$/;
const ERROR_LINE = /^\[cloudsmith\] error: (.*)$/;
/** Which of RUN_RULES the package step found true of the build output (jenkins/steps/package.sh). */
const RULE_LINE = /^\[cloudsmith\] run-rule=(\d+) /;
const TAIL_LINES = 20;
/** The app's one cache entry in its cache/<app>/ prefix, as jenkins/steps/lib.sh (cache_config) names it. */
const CACHE_ENTRY = 'jenkins.tar.gz';

type CacheParameters = Pick<
  JenkinsParameters,
  'CACHE_URL' | 'CACHE_KEY' | 'CACHE_DIRS' | 'CACHE_STORE_ENV' | 'CACHE_SKIP_INSTALL' | 'CACHE_MAX_MB'
>;

interface QueueItem {
  id?: number;
  cancelled?: boolean;
  why?: string | null;
  executable?: { number: number; url?: string } | null;
}

interface BuildInfo {
  number?: number;
  building?: boolean;
  result?: string | null;
  artifacts?: { relativePath: string }[];
}

interface LogSummary {
  tail: string[];
  errors: string[];
  sha256?: string;
  size?: number;
  rule?: number;
}

/** Everything one build needs to cancel itself: where it is in Jenkins right now. */
class Handle {
  queueId?: number;
  build?: number;
  cancelRequested = false;
  stopSent = false;
  stopSentAt = 0;
  queueCancelSent = false;
  timedOut = false;
}

/** How long a stopped build may take to end before the adapter stops waiting for it. */
const STOP_GRACE_MS = 30_000;

/**
 * Buildrelay's Jenkins adapter: runs jenkins/Jenkinsfile through the Jenkins REST API. The Git token and the
 * app's env reach Jenkins only as temporary credentials (created before, deleted after the build), never as
 * build parameters; the pipeline binds them with `withCredentials`.
 */
export class JenkinsBuilder implements Builder {
  readonly name = 'jenkins';
  private readonly client: JenkinsClient;
  private readonly jobPath: string;

  constructor(private readonly opts: JenkinsBuilderOptions) {
    this.client = new JenkinsClient({
      url: opts.url,
      user: opts.user,
      apiToken: opts.apiToken,
      attempts: opts.attempts,
      backoffMs: opts.backoffMs,
    });
    this.jobPath = `job/${opts.job.split('/').map(encodeURIComponent).join('/job/')}`;
  }
  async build(job: BuildJob, ctx: BuildContext): Promise<BuildResult> {
    const plan = await detectPlan(job.sourceDir, job.overrides);
    const runPlan = runPlanFor(plan);
    const pipeline = pipelinePlan(plan);
    // How a framework app runs is decided by the pipeline from its build output, with the providers' own rules.
    const rules = await outputRules(plan);
    ctx.log(`Detected: ${plan.reason}`);
    const cache = await this.cacheParameters(job, plan, ctx);
    const token = this.opts.openToken(job.sealedToken);
    const secrets = [token, ...Object.values(job.env)];
    const log = (line: string) => {
      ctx.log(maskSecrets(line, secrets));
    };
    const key = artifactKey(job.app, job.commitSha, job.deploymentId);

    const suffix = `${safeId(job.deploymentId)}-${randomBytes(4).toString('hex')}`;
    const gitCredentialId = `cloudsmith-git-${suffix}`;
    const envCredentialId = Object.keys(job.env).length > 0 ? `cloudsmith-env-${suffix}` : '';
    const created: string[] = [];
    const handle = new Handle();
    const onAbort = () => {
      handle.cancelRequested = true;
      void this.cancel(handle).catch((err: unknown) => {
        log(`Could not cancel the Jenkins build: ${errorMessage(err)}`);
      });
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      if (ctx.signal.aborted) throw cancelled();
      await this.createCredential(
        usernamePasswordXml(
          gitCredentialId,
          'x-access-token',
          token,
          `CloudSmith deployment ${job.deploymentId}: Git token (temporary)`,
        ),
      );
      created.push(gitCredentialId);
      if (envCredentialId) {
        await this.createCredential(
          secretTextXml(
            envCredentialId,
            encodeEnv(job.env),
            `CloudSmith deployment ${job.deploymentId}: app env (temporary)`,
          ),
        );
        created.push(envCredentialId);
      }

      const parameters: JenkinsParameters = {
        REPO_CLONE_URL: job.cloneUrl,
        // BuildJob carries the resolved commit only; the ref is informational in the pipeline.
        REF: '',
        COMMIT_SHA: job.commitSha,
        DEPLOYMENT_ID: job.deploymentId,
        ROOT_DIR: pipeline.rootDir,
        INSTALL_COMMAND: pipeline.installCommand,
        BUILD_COMMAND: pipeline.buildCommand,
        OUTPUT_DIR: pipeline.outputDir,
        RUN_RULES: encodeOutputRules(rules),
        ARTIFACT_BUCKET: this.opts.artifactBucket ?? '',
        ARTIFACT_KEY: key,
        // Stored with the S3 upload, for the Lambda the upload event triggers (adapters/artifacts/planMetadata.ts).
        RUN_PLAN: encodePlan(runPlan),
        ...cache,
        CALLBACK_URL: this.opts.callbackUrl ?? '',
        GIT_CREDENTIALS_ID: gitCredentialId,
        ENV_CREDENTIALS_ID: envCredentialId,
      };
      const location = await this.trigger(parameters);
      handle.queueId = queueId(location);
      // Poll the item below our own root URL: Location uses Jenkins' configured URL, which may be a public name.
      const itemPath = handle.queueId === undefined ? location : `queue/item/${handle.queueId}/`;
      if (handle.cancelRequested) await this.cancel(handle);
      log(`Queued in Jenkins as item ${handle.queueId ?? location} (job ${this.opts.job})`);

      const number = await this.waitForExecutable(itemPath, handle, log);
      handle.build = number;
      if (handle.cancelRequested) await this.cancel(handle);
      log(`Jenkins build #${number} started: ${this.client.url(`${this.jobPath}/${number}/`).href}`);

      const summary = await this.streamLog(number, handle, log);
      const result = await this.waitForResult(number, handle);
      const artifact = await this.collect(result, number, key, summary, handle, ctx.signal);
      return { artifact, plan: decidedPlan(rules, summary.rule, runPlan, ctx) };
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      for (const id of created) {
        await this.deleteCredential(id).catch((err: unknown) => {
          log(`Warning: could not delete the temporary Jenkins credential ${id}: ${errorMessage(err)}`);
        });
      }
    }
  }

  /** The cache parameters of this build, computed here: the pipeline only restores and stores what they say. */
  private async cacheParameters(job: BuildJob, plan: BuildPlan, ctx: BuildContext): Promise<CacheParameters> {
    const none: CacheParameters = {
      CACHE_URL: '',
      CACHE_KEY: '',
      CACHE_DIRS: '',
      CACHE_STORE_ENV: '',
      CACHE_SKIP_INSTALL: '',
      CACHE_MAX_MB: '',
    };
    const options = this.opts.cache;
    if (!options) return none;
    let spec: RemoteCacheSpec | undefined;
    try {
      spec = await remoteCacheSpec(job.app, plan, join(job.sourceDir, plan.rootDir), job.env, options.salt);
    } catch (err) {
      // A cache never fails a build: without one the pipeline builds cold.
      ctx.log(`cache not restored: ${errorMessage(err)}`);
      return none;
    }
    if (!spec) return none;
    return {
      CACHE_URL: `s3://${options.bucket}/${spec.prefix}`,
      CACHE_KEY: spec.key,
      CACHE_DIRS: spec.dirs,
      CACHE_STORE_ENV: spec.storeEnv,
      CACHE_SKIP_INSTALL: spec.skipInstall ? 'true' : '',
      CACHE_MAX_MB: String(options.maxAppMb),
    };
  }

  /**
   * The app was deleted: its cache entry goes, so a later app of that name does not inherit it. Through the
   * artifact store, which is the cache's bucket (CLOUDSMITH_S3_BUCKET = JENKINS_ARTIFACT_BUCKET, see jenkins/README.md).
   */
  async forget(app: string): Promise<void> {
    if (this.opts.cache) await this.opts.artifacts.delete(`${remoteCachePrefix(app)}${CACHE_ENTRY}`);
  }

  private async createCredential(xml: string): Promise<void> {
    await this.client.request({
      method: 'POST',
      path: `${CREDENTIALS_STORE}/createCredentials`,
      body: xml,
      contentType: 'application/xml',
    });
  }

  private async deleteCredential(id: string): Promise<void> {
    await this.client.request({
      method: 'DELETE',
      path: `${CREDENTIALS_STORE}/credential/${encodeURIComponent(id)}/config.xml`,
      accept: [404],
    });
  }

  /** POST buildWithParameters; Jenkins answers 201 with the queue item in Location. */
  private async trigger(parameters: JenkinsParameters): Promise<string> {
    const body = new URLSearchParams(parameters);
    const res = await this.client.request({
      method: 'POST',
      path: `${this.jobPath}/buildWithParameters`,
      body,
      accept: [404],
    });
    if (res.status === 404)
      throw new UserFacingError(
        `Jenkins has no job "${this.opts.job}" (JENKINS_JOB); seed it with jenkins/jobs/cloudsmith-build.groovy`,
        502,
        'jenkins_error',
      );
    const location = res.headers.get('location');
    if (!location)
      throw new UserFacingError(
        `Jenkins accepted the build of "${this.opts.job}" but gave no queue item (HTTP ${res.status})`,
        502,
        'jenkins_error',
      );
    return location;
  }

  private async waitForExecutable(itemPath: string, handle: Handle, log: (line: string) => void): Promise<number> {
    const deadline = Date.now() + (this.opts.timeoutMs ?? 60 * 60_000);
    let lastWhy = '';
    for (;;) {
      const item = await this.client.json<QueueItem>(`${itemPath.replace(/\/?$/, '/')}api/json`);
      if (item.cancelled) {
        throw new UserFacingError(
          handle.cancelRequested
            ? 'cancelled while waiting in the Jenkins queue'
            : "the build was cancelled in Jenkins' queue",
        );
      }
      if (item.executable && typeof item.executable.number === 'number') return item.executable.number;
      if (item.why && item.why !== lastWhy) {
        lastWhy = item.why;
        log(`Waiting in the Jenkins queue: ${item.why}`);
      }
      if (Date.now() > deadline)
        throw new UserFacingError(
          `the build waited in the Jenkins queue for longer than ${minutes(this.opts.timeoutMs)}`,
        );
      await sleep(this.opts.pollMs);
    }
  }

  /** Follows logText/progressiveText from byte offset X-Text-Size while X-More-Data says the build is still writing. */
  private async streamLog(number: number, handle: Handle, log: (line: string) => void): Promise<LogSummary> {
    const summary: LogSummary = { tail: [], errors: [] };
    const deadline = Date.now() + (this.opts.timeoutMs ?? 60 * 60_000);
    let start = 0;
    let partial = '';
    const emit = (line: string) => {
      const clean = line.replace(/\r$/, '');
      // Pipeline bookkeeping ("[Pipeline] sh", "[Pipeline] }") is noise in a deployment log; stage starts are not.
      if (clean.startsWith('[Pipeline] ')) {
        const stage = /^\[Pipeline\] \{ \((.+)\)$/.exec(clean);
        if (stage) log(`── ${stage[1]} ──`);
        return;
      }
      const artifact = ARTIFACT_LINE.exec(clean);
      if (artifact) {
        summary.sha256 = artifact[1];
        summary.size = Number(artifact[2]);
      }
      const rule = RULE_LINE.exec(clean);
      if (rule) summary.rule = Number(rule[1]);
      const error = ERROR_LINE.exec(clean);
      if (error?.[1]) summary.errors.push(error[1]);
      summary.tail.push(clean);
      if (summary.tail.length > TAIL_LINES) summary.tail.shift();
      log(clean);
    };
    for (;;) {
      const res = await this.client.request({
        path: `${this.jobPath}/${number}/logText/progressiveText`,
        query: { start: String(start) },
      });
      const lines = (partial + res.text).split('\n');
      partial = lines.pop() ?? '';
      lines.forEach(emit);
      const size = Number(res.headers.get('x-text-size'));
      if (Number.isFinite(size) && size >= start) start = size;
      if (res.headers.get('x-more-data') !== 'true') break;
      if (Date.now() > deadline && !handle.stopSent) {
        log(`The build ran longer than ${minutes(this.opts.timeoutMs)}: stopping it`);
        handle.timedOut = true;
        await this.stop(handle, number);
      }
      if (handle.stopSent && Date.now() - handle.stopSentAt > STOP_GRACE_MS) {
        throw handle.timedOut ? timedOut(this.opts.timeoutMs) : cancelled(number);
      }
      // Re-poll at once-ish while output flows (a chatty build is followed closely), at pollMs when it is quiet.
      await sleep(res.text.length === 0 ? this.opts.pollMs : Math.min(this.opts.pollMs, 200));
    }
    if (partial) emit(partial);
    return summary;
  }

  /** The log can end a moment before Jenkins records the result: poll until `building` is false. */
  private async waitForResult(number: number, handle: Handle): Promise<BuildInfo> {
    for (let i = 0; ; i++) {
      const info = await this.client.json<BuildInfo>(
        `${this.jobPath}/${number}/api/json?tree=number,building,result,artifacts[relativePath]`,
      );
      if (!info.building && info.result) return info;
      if (i > 0 && handle.cancelRequested && !handle.stopSent) await this.stop(handle, number);
      if (handle.stopSent && Date.now() - handle.stopSentAt > STOP_GRACE_MS)
        throw handle.timedOut ? timedOut(this.opts.timeoutMs) : cancelled(number);
      await sleep(this.opts.pollMs);
    }
  }

  private async collect(
    info: BuildInfo,
    number: number,
    key: string,
    summary: LogSummary,
    handle: Handle,
    signal: AbortSignal,
  ): Promise<ArtifactRef> {
    const last =
      summary.errors.at(-1) ??
      summary.tail
        .filter((l) => l.trim())
        .slice(-5)
        .join(' | ');
    switch (info.result) {
      case 'SUCCESS':
        break;
      case 'ABORTED':
        if (handle.timedOut) throw timedOut(this.opts.timeoutMs);
        if (handle.cancelRequested || signal.aborted) throw cancelled(number);
        throw new UserFacingError(`the Jenkins build #${number} was aborted`);
      case 'UNSTABLE':
        throw new UserFacingError(
          `the Jenkins build #${number} finished UNSTABLE (a step marked it unstable); only successful builds are deployed${last ? `: ${last}` : ''}`,
        );
      case 'NOT_BUILT':
        throw new UserFacingError(`the Jenkins build #${number} was not built${last ? `: ${last}` : ''}`);
      default:
        throw new UserFacingError(`the Jenkins build #${number} failed${last ? `: ${last}` : ''}`);
    }
    if (!summary.sha256 || summary.size === undefined) {
      throw new UserFacingError(
        `the Jenkins build #${number} succeeded but its log has no artifact checksum line (is the job running jenkins/Jenkinsfile?)`,
      );
    }
    const stored = this.opts.artifactBucket
      ? await this.verifyUploaded(key)
      : await this.fetchArchived(info, number, key);
    if (stored.sha256 !== summary.sha256 || stored.size !== summary.size) {
      throw new UserFacingError(
        `the artifact of Jenkins build #${number} does not match what the build packaged (sha256 ${stored.sha256.slice(0, 12)}…, expected ${summary.sha256.slice(0, 12)}…)`,
      );
    }
    return { kind: 'tarball', key, sha256: stored.sha256, size: stored.size };
  }

  /** Bucket mode: the pipeline uploaded to S3; read it back through the artifact store and hash it. */
  private async verifyUploaded(key: string): Promise<{ sha256: string; size: number }> {
    if (!(await this.opts.artifacts.exists(key))) {
      throw new UserFacingError(
        `the Jenkins build succeeded but s3://${this.opts.artifactBucket}/${key} is missing; check that CLOUDSMITH_S3_BUCKET and JENKINS_ARTIFACT_BUCKET name the same bucket`,
      );
    }
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of await this.opts.artifacts.open(key)) {
      const buf = chunk as Buffer;
      hash.update(buf);
      size += buf.length;
    }
    return { sha256: hash.digest('hex'), size };
  }

  /** Archive mode: download the build's archived artifact and put it into the artifact store. */
  private async fetchArchived(info: BuildInfo, number: number, key: string): Promise<{ sha256: string; size: number }> {
    if (!(info.artifacts ?? []).some((a) => a.relativePath === ARCHIVED_ARTIFACT)) {
      throw new UserFacingError(`the Jenkins build #${number} succeeded but archived no ${ARCHIVED_ARTIFACT}`);
    }
    const base = this.opts.workDir ?? join(tmpdir(), 'cloudsmith-jenkins');
    await mkdir(base, { recursive: true });
    const dir = await mkdtemp(join(base, 'artifact-'));
    try {
      const file = join(dir, 'artifact.tar.gz');
      await this.client.download(`${this.jobPath}/${number}/artifact/${ARCHIVED_ARTIFACT}`, file);
      const stored = await this.opts.artifacts.putFile(key, file);
      return { sha256: stored.sha256, size: stored.size };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async cancel(handle: Handle): Promise<void> {
    if (handle.build !== undefined) return this.stop(handle, handle.build);
    if (handle.queueId !== undefined && !handle.queueCancelSent) {
      handle.queueCancelSent = true;
      // Jenkins answers cancelItem with a redirect (302) or 204 depending on the version; either is fine.
      await this.client.request({
        method: 'POST',
        path: 'queue/cancelItem',
        query: { id: String(handle.queueId) },
        accept: [302, 303, 404],
      });
    }
  }

  private async stop(handle: Handle, number: number): Promise<void> {
    if (handle.stopSent) return;
    handle.stopSent = true;
    handle.stopSentAt = Date.now();
    await this.client.request({ method: 'POST', path: `${this.jobPath}/${number}/stop`, accept: [302, 303] });
  }
}

function cancelled(number?: number): UserFacingError {
  return new UserFacingError(
    number === undefined ? 'the build was cancelled' : `the build was cancelled (Jenkins build #${number} stopped)`,
  );
}

function timedOut(timeoutMs: number | undefined): UserFacingError {
  return new UserFacingError(`the Jenkins build timed out after ${minutes(timeoutMs)}`);
}

function minutes(ms: number | undefined): string {
  const value = ms ?? 60 * 60_000;
  return value < 120_000 ? `${Math.round(value / 1000)} s` : `${Math.round(value / 60_000)} minutes`;
}

function queueId(location: string): number | undefined {
  const match = /\/queue\/item\/(\d+)\/?$/.exec(location);
  return match ? Number(match[1]) : undefined;
}

function safeId(id: string): string {
  return /^[A-Za-z0-9_-]{1,64}$/.test(id) ? id : createHash('sha256').update(id).digest('hex').slice(0, 16);
}

/** The run plan of the rule the pipeline found true of the build output; the detected one when there were none. */
function decidedPlan(rules: OutputRule[], index: number | undefined, detected: RunPlan, ctx: BuildContext): RunPlan {
  if (rules.length === 0) return detected;
  const plan = index === undefined ? undefined : rules[index]?.plan;
  if (!plan) throw new UserFacingError('the Jenkins build did not say how its output runs (no run-rule line)');
  ctx.log(`Decided from the build output: ${plan.start.join(' ')}`);
  return plan;
}
