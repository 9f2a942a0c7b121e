import { randomUUID } from 'node:crypto';
import { CreateSubnetCommand, CreateVpcCommand, CreateSecurityGroupCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateClusterCommand, ECSClient } from '@aws-sdk/client-ecs';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { awsClientConfig, type AwsSettings } from '../../src/adapters/aws/clients';
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
  const config = awsClientConfig(awsSettings(endpoint));
  const ec2 = new EC2Client(config);
  const elb = new ElasticLoadBalancingV2Client(config);
  const ecs = new ECSClient(config);
  try {
    const id = randomUUID().slice(0, 8);
    const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }));
    const vpcId = vpc.Vpc!.VpcId!;
    const subnets: string[] = [];
    for (const [i, az] of ['us-east-1a', 'us-east-1b'].entries()) {
      const s = await ec2.send(
        new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.20.${i}.0/24`, AvailabilityZone: az }),
      );
      subnets.push(s.Subnet!.SubnetId!);
    }
    const sg = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: `cs-apps-${id}`, Description: 'CloudSmith apps', VpcId: vpcId }),
    );
    const lb = await elb.send(
      new CreateLoadBalancerCommand({
        Name: `cs-${id}`,
        Subnets: subnets,
        SecurityGroups: [sg.GroupId!],
        Type: 'application',
      }),
    );
    const albArn = lb.LoadBalancers![0].LoadBalancerArn!;
    const listener = await elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: albArn,
        Protocol: 'HTTP',
        Port: 80,
        DefaultActions: [
          {
            Type: 'fixed-response',
            FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain', MessageBody: 'no such app' },
          },
        ],
      }),
    );
    const cluster = `cs-${id}`;
    await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    return {
      albArn,
      cluster,
      subnets,
      securityGroups: [sg.GroupId!],
      listenerArn: listener.Listeners![0].ListenerArn!,
      vpcId,
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
  } finally {
    ec2.destroy();
    elb.destroy();
    ecs.destroy();
  }
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
