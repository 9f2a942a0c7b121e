import { CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateClusterCommand, ECSClient } from '@aws-sdk/client-ecs';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { awsClientConfig, awsErrorName, type AwsSettings } from '../../adapters/aws/clients';

/** What terraform/ outputs in a real account and the ECS runtime needs: the network, the ALB listener, the cluster. */
export interface LocalNetwork {
  vpcId: string;
  subnets: string[];
  securityGroups: string[];
  albArn: string;
  listenerArn: string;
  cluster: string;
}

const CIDR = '10.20.0.0/16';
const ZONES = ['us-east-1a', 'us-east-1b'];

/**
 * Makes Terraform's network in an emulator (moto): a VPC with two subnets, a security group, an ALB with an HTTP
 * listener (moto has no ACM certificate for HTTPS) answering 404 for unknown hosts, and an ECS cluster, all named
 * `name`. Used by scripts/aws-local.sh (one stable name, found again on a second run) and by the AWS tests (a
 * unique name per suite).
 */
export async function createNetwork(settings: AwsSettings, name: string): Promise<LocalNetwork> {
  const config = awsClientConfig(settings);
  const ec2 = new EC2Client(config);
  const elb = new ElasticLoadBalancingV2Client(config);
  const ecs = new ECSClient(config);
  try {
    const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: CIDR }));
    const vpcId = required(vpc.Vpc?.VpcId, 'VPC id');
    const subnets: string[] = [];
    for (const [i, zone] of ZONES.entries()) {
      const subnet = await ec2.send(
        new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.20.${String(i)}.0/24`, AvailabilityZone: zone }),
      );
      subnets.push(required(subnet.Subnet?.SubnetId, 'subnet id'));
    }
    const sg = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: `${name}-apps`, Description: 'CloudSmith apps', VpcId: vpcId }),
    );
    const securityGroup = required(sg.GroupId, 'security group id');
    const lb = await elb.send(
      new CreateLoadBalancerCommand({
        Name: name,
        Subnets: subnets,
        SecurityGroups: [securityGroup],
        Type: 'application',
      }),
    );
    const albArn = required(lb.LoadBalancers?.[0]?.LoadBalancerArn, 'load balancer ARN');
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
    await ecs.send(new CreateClusterCommand({ clusterName: name }));
    return {
      vpcId,
      subnets,
      securityGroups: [securityGroup],
      albArn,
      listenerArn: required(listener.Listeners?.[0]?.ListenerArn, 'listener ARN'),
      cluster: name,
    };
  } finally {
    ec2.destroy();
    elb.destroy();
    ecs.destroy();
  }
}

/** The network a previous run made under `name` (its ALB is the anchor), or undefined when there is none. */
export async function findNetwork(settings: AwsSettings, name: string): Promise<LocalNetwork | undefined> {
  const elb = new ElasticLoadBalancingV2Client(awsClientConfig(settings));
  try {
    const found = await elb.send(new DescribeLoadBalancersCommand({ Names: [name] })).catch((err: unknown) => {
      if (awsErrorName(err) === 'LoadBalancerNotFoundException' || awsErrorName(err) === 'LoadBalancerNotFound')
        return undefined;
      throw err;
    });
    const lb = found?.LoadBalancers?.[0];
    if (!lb?.LoadBalancerArn || !lb.VpcId) return undefined;
    const listeners = await elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
    const listenerArn = listeners.Listeners?.[0]?.ListenerArn;
    if (!listenerArn) return undefined;
    return {
      vpcId: lb.VpcId,
      subnets: (lb.AvailabilityZones ?? []).map((z) => z.SubnetId).filter((s): s is string => !!s),
      securityGroups: lb.SecurityGroups ?? [],
      albArn: lb.LoadBalancerArn,
      listenerArn,
      cluster: name,
    };
  } finally {
    elb.destroy();
  }
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`the emulator returned no ${what}`);
  return value;
}
