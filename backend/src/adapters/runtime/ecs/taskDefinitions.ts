import { createHash } from 'node:crypto';
import { DescribeImagesCommand, type ECRClient } from '@aws-sdk/client-ecr';
import {
  DeregisterTaskDefinitionCommand,
  DescribeTaskDefinitionCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  type ContainerDefinition,
  type ECSClient,
  type KeyValuePair,
  type Secret,
} from '@aws-sdk/client-ecs';
import type { ArtifactRef, RunPlan } from '../../../domain/deployment';
import type { ArtifactStore } from '../../../ports/artifacts';
import { UserFacingError } from '../../../domain/errors';
import type { Release } from '../../../ports/runtime';
import { awsErrorName } from '../../aws/clients';
import { BAKED_ARTIFACT, ImageBuilder } from './images';
import { CONTAINER, ecsNames } from './names';
import type { EcsRuntimeOptions } from './options';

const FINGERPRINT_TAG = 'cloudsmith:fingerprint';
/** Which artifact a revision runs: a later release of the same artifact (a rollback) restores that revision as it was. */
const ARTIFACT_TAG = 'cloudsmith:artifact';
/** How many recent revisions a release compares itself with before registering a new one. */
const REUSE_LOOKBACK = 10;
const SECRET_ARN = /^arn:aws[a-z-]*:(ssm|secretsmanager):/;
const ECR_IMAGE = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/([^:@]+)(?::([^@]+))?$/;

/** `host:5000/repo:tag` → `host:5000/repo` (a registry port is not a tag). */
function withoutTag(image: string): string {
  return image.replace(/@.*$/, '').replace(/:[^/:]+$/, '');
}

/** App env → task definition environment, except values that are SSM or Secrets Manager ARNs: those become `secrets`, resolved by ECS at task start. */
export function splitEnv(env: Record<string, string>): { environment: KeyValuePair[]; secrets: Secret[] } {
  const environment: KeyValuePair[] = [];
  const secrets: Secret[] = [];
  for (const [name, value] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (SECRET_ARN.test(value)) secrets.push({ name, valueFrom: value });
    else environment.push({ name, value });
  }
  return { environment, secrets };
}

function artifactIdentity(artifact: ArtifactRef): string {
  const id =
    artifact.kind === 'tarball' ? `${artifact.key}#${artifact.sha256}` : `${artifact.image}@${artifact.digest ?? ''}`;
  return createHash('sha256').update(id).digest('hex').slice(0, 32);
}

/** The container's own health check: the platform's rule (any status below 500) on the plan's health path. */
export function healthCheckFor(plan: RunPlan, port: number) {
  const path = plan.healthPath.startsWith('/') ? plan.healthPath : `/${plan.healthPath}`;
  const probe = `fetch('http://127.0.0.1:${port}${path}').then((r) => process.exit(r.status < 500 ? 0 : 1), () => process.exit(1))`;
  return { command: ['CMD', 'node', '-e', probe], interval: 5, timeout: 4, retries: 3, startPeriod: 10 };
}

/** The job of turning a release into an image reference and a task definition revision, and of finding old revisions. */
export class TaskDefinitions {
  private readonly images?: ImageBuilder;

  constructor(
    private readonly ecs: ECSClient,
    private readonly ecr: ECRClient,
    private readonly options: EcsRuntimeOptions,
    private readonly port: number,
    artifacts?: ArtifactStore,
  ) {
    if (artifacts && options.appRepository && options.runnerImage) {
      this.images = new ImageBuilder(ecr, artifacts, {
        runnerImage: options.runnerImage,
        repository: options.appRepository,
        registry: options.registry,
      });
    }
  }

  /**
   * The revision for a release: the one that ran the same artifact before (a rollback gets its image, command and env
   * back as they were), else a new or identical one registered from the release.
   */
  async forRelease(release: Release, log: (line: string) => void): Promise<string> {
    const family = ecsNames(release.app, this.options.cluster).family;
    const earlier = await this.findRevision(family, ARTIFACT_TAG, artifactIdentity(release.artifact));
    if (earlier) {
      log(`ECS: this artifact ran as ${earlier}: restoring that revision as it was`);
      return earlier;
    }
    const image = await this.resolveImage(release);
    log(`ECS: registering task definition ${family} with ${image}`);
    return this.register(release, image);
  }

  /**
   * Image artifacts run as built (pinned to their digest when known or in ECR). Tarballs become an image of their
   * own in ECR when an app repository is configured (the runner image plus the artifact), else they run in the
   * runner image, which downloads them from S3.
   */
  async resolveImage(release: Release): Promise<string> {
    const artifact = release.artifact;
    if (artifact.kind === 'tarball') {
      if (!this.options.runnerImage) {
        throw new UserFacingError(
          'the ECS runtime needs a container image: build with the docker builder, or set CLOUDSMITH_ECS_RUNNER_IMAGE to run tarball artifacts',
        );
      }
      if (!this.images) return this.options.runnerImage;
      // The commit's tag (artifacts/<app>/<commit>/<deployment>.tar.gz); the task definition pins the digest anyway.
      const commit = artifact.key.split('/')[2] ?? release.deploymentId;
      return this.images.build(artifact, `${release.app}-${commit}`.slice(0, 128));
    }
    if (artifact.digest) return `${withoutTag(artifact.image)}@${artifact.digest}`;
    const ecr = ECR_IMAGE.exec(artifact.image);
    if (!ecr) return artifact.image;
    const [, registryId, , repositoryName, tag = 'latest'] = ecr;
    try {
      const res = await this.ecr.send(
        new DescribeImagesCommand({ registryId, repositoryName, imageIds: [{ imageTag: tag }] }),
      );
      const digest = res.imageDetails?.[0]?.imageDigest;
      return digest ? `${withoutTag(artifact.image)}@${digest}` : artifact.image;
    } catch (err) {
      const name = awsErrorName(err);
      if (name === 'ImageNotFoundException' || name === 'RepositoryNotFoundException') {
        throw new UserFacingError(`image ${artifact.image} is not in ECR (${name})`);
      }
      throw err;
    }
  }

  /**
   * Registers the release's task definition, or reuses an ACTIVE revision with the same content (a rollback to an
   * earlier artifact, a redeploy of the same commit): the service then moves back to that exact revision. Content is
   * compared by a fingerprint tag, since ECS echoes definitions back with defaults filled in.
   */
  private async register(release: Release, image: string): Promise<string> {
    const names = ecsNames(release.app, this.options.cluster);
    const env: Record<string, string> = { ...release.env, PORT: String(this.port) };
    if (release.artifact.kind === 'tarball') {
      // Baked into the image, or fetched from S3 by the runner with the task role.
      if (this.images) env.CLOUDSMITH_ARTIFACT_FILE = BAKED_ARTIFACT;
      else {
        env.CLOUDSMITH_ARTIFACT_BUCKET = this.options.artifactBucket ?? '';
        env.CLOUDSMITH_ARTIFACT_KEY = release.artifact.key;
      }
      env.CLOUDSMITH_ARTIFACT_SHA256 = release.artifact.sha256;
      env.CLOUDSMITH_WORKDIR = release.plan.workdir;
    }
    const { environment, secrets } = splitEnv(env);
    const container: ContainerDefinition = {
      name: CONTAINER,
      image,
      essential: true,
      // Tarballs run their plan's start argv inside the runner; images carry their own entrypoint.
      command: release.artifact.kind === 'tarball' ? release.plan.start : undefined,
      portMappings: [{ containerPort: this.port, protocol: 'tcp' }],
      // Tarballs run on the runner's Node, so the probe can be Node too; an image may not have it.
      healthCheck: release.artifact.kind === 'tarball' ? healthCheckFor(release.plan, this.port) : undefined,
      environment,
      secrets: secrets.length ? secrets : undefined,
      logConfiguration: {
        logDriver: 'awslogs',
        options: {
          'awslogs-group': this.options.logGroup,
          'awslogs-region': this.options.region,
          'awslogs-stream-prefix': release.app,
        },
      },
    };
    const shape = {
      cpu: String(this.options.cpu),
      memory: String(this.options.memory),
      executionRoleArn: this.options.executionRoleArn,
      taskRoleArn: this.options.taskRoleArn,
    };
    const fingerprint = createHash('sha256').update(JSON.stringify({ container, shape })).digest('hex').slice(0, 32);
    const existing = await this.findRevision(names.family, FINGERPRINT_TAG, fingerprint);
    if (existing) return existing;
    const res = await this.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: names.family,
        networkMode: 'awsvpc',
        // One definition for every capacity: Fargate, Fargate Spot and the EC2 Auto Scaling group provider.
        requiresCompatibilities: ['FARGATE', 'EC2'],
        ...shape,
        containerDefinitions: [container],
        tags: [
          { key: 'cloudsmith:app', value: release.app },
          { key: 'cloudsmith:deployment', value: release.deploymentId },
          { key: FINGERPRINT_TAG, value: fingerprint },
          { key: ARTIFACT_TAG, value: artifactIdentity(release.artifact) },
        ],
      }),
    );
    const arn = res.taskDefinition?.taskDefinitionArn;
    if (!arn) throw new Error(`ECS registered no task definition for ${names.family}`);
    return arn;
  }

  /** ACTIVE revisions of a family, oldest first. */
  async listRevisions(family: string): Promise<string[]> {
    const out: string[] = [];
    let nextToken: string | undefined;
    do {
      const res = await this.ecs.send(
        new ListTaskDefinitionsCommand({ familyPrefix: family, status: 'ACTIVE', sort: 'ASC', nextToken }),
      );
      // familyPrefix matches prefixes: keep only this exact family.
      out.push(
        ...(res.taskDefinitionArns ?? []).filter((arn) => arn.split('/').pop()?.replace(/:\d+$/, '') === family),
      );
      nextToken = res.nextToken;
    } while (nextToken);
    const revision = (arn: string) => Number(arn.split(':').pop());
    return out.sort((a, b) => revision(a) - revision(b));
  }

  /** Deregisters every revision of the app's family (an already inactive one is not an error). */
  async removeAll(app: string): Promise<void> {
    for (const arn of await this.listRevisions(ecsNames(app, this.options.cluster).family)) {
      try {
        await this.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn }));
      } catch (err) {
        // Deregistering a revision that is already inactive is a ClientException.
        if (awsErrorName(err) !== 'ClientException') throw err;
      }
    }
  }

  /** The newest ACTIVE revision (of the last few) carrying tag `key` = `value`. */
  private async findRevision(family: string, key: string, value: string): Promise<string | undefined> {
    const recent = (await this.listRevisions(family)).slice(-REUSE_LOOKBACK).reverse();
    for (const arn of recent) {
      const res = await this.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn, include: ['TAGS'] }));
      if (res.tags?.some((t) => t.key === key && t.value === value)) return arn;
    }
    return undefined;
  }
}
