import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AwsSettings } from '../../src/adapters/aws/clients';
import { createNetwork } from '../../src/cli/awsLocal/network';
import type { EcsRuntimeOptions } from '../../src/adapters/runtime/ecs/ecsRuntime';
import type { S3Event } from '../../src/lambda/artifact-uploaded';
import { requirePeer } from '../peers';

/** The moto endpoint from scripts/moto.sh (`eval "$(scripts/moto.sh env)"`), or undefined when the AWS tests should skip. */
export function motoEndpoint(): string | undefined {
  return process.env.CLOUDSMITH_TEST_AWS_ENDPOINT || undefined;
}

export const SKIP_MESSAGE =
  'CLOUDSMITH_TEST_AWS_ENDPOINT is unset: run `bash scripts/moto.sh up && eval "$(bash scripts/moto.sh env)"` to run the AWS tests';

/** `before` hook body: the moto endpoint; without one the suite fails, or skips when moto is in CLOUDSMITH_TEST_SKIP. */
export function requireMoto(ctx: Mocha.Context): string {
  return requirePeer(ctx, 'moto', motoEndpoint(), SKIP_MESSAGE);
}

/** `value`, asserting moto returned it: the AWS SDK types every field of an answer optional. */
export function must<T>(value: T | undefined, what: string): T {
  assert.ok(value !== undefined, `moto returned no ${what}`);
  return value;
}

export function awsSettings(endpoint: string): AwsSettings {
  return { region: 'us-east-1', endpoint };
}

/** A name unique to this run, so suites sharing one moto server never see each other's tables, buckets or apps. */
export function uniqueName(prefix: string): string {
  return `${prefix}${randomUUID().slice(0, 8)}`;
}

/**
 * What Terraform provides in a real account, made in moto: a VPC with two subnets, a security group, an ALB with an
 * HTTPS-style listener (HTTP here: moto has no ACM certificate to attach), and an ECS cluster.
 */
export async function createMotoNetwork(
  endpoint: string,
): Promise<Omit<EcsRuntimeOptions, 'region' | 'endpoint'> & { albArn: string }> {
  // The same network scripts/aws-local.sh makes for a local run, under a name of this suite's own.
  const network = await createNetwork(awsSettings(endpoint), `cs-${randomUUID().slice(0, 8)}`);
  return {
    ...network,
    executionRoleArn: 'arn:aws:iam::123456789012:role/cloudsmith-task-execution',
    logGroup: '/cloudsmith/apps',
    cpu: 256,
    memory: 512,
    minTasks: 1,
    maxTasks: 3,
    appDomain: 'apps.example.test',
    capacity: 'FARGATE',
    appCapacity: {},
    emulator: true,
    stableTimeoutMs: 30_000,
  };
}

/** An S3 notification exactly as AWS delivers it to Lambda (version 2.1), key URL-encoded. */
export function s3Event(bucket: string, key: string, size: number, eventName = 'ObjectCreated:Put'): S3Event {
  const record = {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: new Date().toISOString(),
    eventName,
    userIdentity: { principalId: 'AWS:AIDAEXAMPLE' },
    requestParameters: { sourceIPAddress: '10.0.0.1' },
    responseElements: {
      'x-amz-request-id': 'C3D13FE58DE4C810',
      'x-amz-id-2': 'FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD',
    },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'artifact-uploaded',
      bucket: { name: bucket, ownerIdentity: { principalId: 'A3NL1KOZZKExample' }, arn: `arn:aws:s3:::${bucket}` },
      object: {
        key: encodeURIComponent(key).replace(/%2F/g, '/'),
        size,
        eTag: 'd41d8cd98f00b204e9800998ecf8427e',
        sequencer: '0055AED6DCD90281E5',
      },
    },
  };
  return { Records: [record] };
}
