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
import type { ArtifactRef } from '../../../domain/deployment';
import { UserFacingError } from '../../../domain/errors';
import type { Release } from '../../../ports/runtime';
import { awsErrorName } from '../../aws/clients';
import { CONTAINER, ecsNames } from './names';
import type { EcsRuntimeOptions } from './options';

const FINGERPRINT_TAG = 'cloudsmith:fingerprint';
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

/** The job of turning a release into an image reference and a task definition revision, and of finding old revisions. */
export class TaskDefinitions {
  constructor(
    private readonly ecs: ECSClient,
    private readonly ecr: ECRClient,
    private readonly options: EcsRuntimeOptions,
    private readonly port: number,
  ) {}

  /** Image artifacts run as built (pinned to their digest when known or in ECR); tarballs run in the runner image. */
  async resolveImage(artifact: ArtifactRef): Promise<string> {
    if (artifact.kind === 'tarball') {
      if (!this.options.runnerImage) {
        throw new UserFacingError(
          'the ECS runtime needs a container image: build with the docker builder, or set CLOUDSMITH_ECS_RUNNER_IMAGE to run tarball artifacts',
        );
      }
      return this.options.runnerImage;
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
  async register(release: Release, image: string): Promise<string> {
    const names = ecsNames(release.app, this.options.cluster);
    const env: Record<string, string> = { ...release.env, PORT: String(this.port) };
    if (release.artifact.kind === 'tarball') {
      env.CLOUDSMITH_ARTIFACT_BUCKET = this.options.artifactBucket ?? '';
      env.CLOUDSMITH_ARTIFACT_KEY = release.artifact.key;
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
    const existing = await this.findRevision(names.family, fingerprint);
    if (existing) return existing;
    const res = await this.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: names.family,
        networkMode: 'awsvpc',
        requiresCompatibilities: ['FARGATE'],
        ...shape,
        containerDefinitions: [container],
        tags: [
          { key: 'cloudsmith:app', value: release.app },
          { key: 'cloudsmith:deployment', value: release.deploymentId },
          { key: FINGERPRINT_TAG, value: fingerprint },
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

  /** The newest ACTIVE revision (of the last few) carrying `fingerprint`. */
  private async findRevision(family: string, fingerprint: string): Promise<string | undefined> {
    const recent = (await this.listRevisions(family)).slice(-REUSE_LOOKBACK).reverse();
    for (const arn of recent) {
      const res = await this.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn, include: ['TAGS'] }));
      if (res.tags?.some((t) => t.key === FINGERPRINT_TAG && t.value === fingerprint)) return arn;
    }
    return undefined;
  }
}
