import {
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeleteRuleCommand,
  DeleteTargetGroupCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  type ElasticLoadBalancingV2Client,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { awsErrorName } from '../../aws/clients';
import { ecsNames } from './names';
import type { EcsRuntimeOptions } from './options';

/** The job of putting an app behind the shared ALB: its target group and its host-header rule on the listener. */
export class LoadBalancerRules {
  constructor(
    private readonly elb: ElasticLoadBalancingV2Client,
    private readonly options: EcsRuntimeOptions,
    private readonly port: number,
  ) {}

  host(app: string): string {
    return `${app}.${this.options.appDomain}`;
  }

  /** Creates (or brings up to date) the app's target group and its listener rule; returns the target group ARN. */
  async ensure(app: string, healthPath: string): Promise<string> {
    const targetGroupArn = await this.ensureTargetGroup(app, healthPath);
    await this.ensureListenerRule(app, targetGroupArn);
    return targetGroupArn;
  }

  /** The rule first: a target group still referenced by a rule cannot be deleted. */
  async remove(app: string): Promise<void> {
    const rule = await this.findRule(app);
    if (rule?.RuleArn) await this.elb.send(new DeleteRuleCommand({ RuleArn: rule.RuleArn }));
  }

  /** Separate from `remove`: ELB refuses to delete a target group while a service still uses it. */
  async removeTargetGroup(app: string): Promise<void> {
    const tg = await this.findTargetGroup(ecsNames(app, this.options.cluster).targetGroup);
    if (tg) await this.elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg }));
  }

  async findRule(app: string): Promise<Rule | undefined> {
    const host = this.host(app);
    return (await this.listRules()).find((r) =>
      (r.Conditions ?? []).some(
        (c) => c.Field === 'host-header' && (c.HostHeaderConfig?.Values ?? c.Values ?? []).includes(host),
      ),
    );
  }

  private async ensureTargetGroup(app: string, healthPath: string): Promise<string> {
    const name = ecsNames(app, this.options.cluster).targetGroup;
    const health = {
      HealthCheckPath: healthPath || '/',
      // The ALB defaults (30 s interval, 5 healthy checks, 300 s deregistration) add minutes to every deploy.
      HealthCheckIntervalSeconds: 5,
      HealthCheckTimeoutSeconds: 4,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 3,
      // The platform's health rule everywhere: any status below 500 means the app is up.
      Matcher: { HttpCode: '200-499' },
    };
    let arn = await this.findTargetGroup(name);
    if (arn) {
      await this.elb.send(new ModifyTargetGroupCommand({ TargetGroupArn: arn, ...health }));
    } else {
      const res = await this.elb.send(
        new CreateTargetGroupCommand({
          Name: name,
          Protocol: 'HTTP',
          Port: this.port,
          VpcId: this.options.vpcId,
          TargetType: 'ip',
          HealthCheckProtocol: 'HTTP',
          ...health,
          Tags: [{ Key: 'cloudsmith:app', Value: app }],
        }),
      );
      arn = res.TargetGroups?.[0]?.TargetGroupArn;
      if (!arn) throw new Error(`ELBv2 created no target group ${name}`);
    }
    await this.elb.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: arn,
        Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '5' }],
      }),
    );
    return arn;
  }

  private async ensureListenerRule(app: string, targetGroupArn: string): Promise<void> {
    const existing = await this.findRule(app);
    if (existing) return;
    // Priorities are unique per listener; two platforms adding rules at once can collide, so retry with the next one.
    for (let attempt = 0; attempt < 5; attempt++) {
      const rules = await this.listRules();
      const used = new Set(rules.map((r) => Number(r.Priority)).filter(Number.isFinite));
      let priority = 1;
      while (used.has(priority)) priority++;
      try {
        await this.elb.send(
          new CreateRuleCommand({
            ListenerArn: this.options.listenerArn,
            Priority: priority,
            Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: [this.host(app)] } }],
            Actions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }],
            Tags: [{ Key: 'cloudsmith:app', Value: app }],
          }),
        );
        return;
      } catch (err) {
        if (awsErrorName(err) !== 'PriorityInUseException') throw err;
      }
    }
    throw new Error(`could not find a free listener rule priority for ${app}`);
  }

  private async findTargetGroup(name: string): Promise<string | undefined> {
    try {
      const res = await this.elb.send(new DescribeTargetGroupsCommand({ Names: [name] }));
      return res.TargetGroups?.[0]?.TargetGroupArn;
    } catch (err) {
      if (awsErrorName(err) === 'TargetGroupNotFoundException') return undefined;
      throw err;
    }
  }

  private async listRules(): Promise<Rule[]> {
    const out: Rule[] = [];
    let marker: string | undefined;
    do {
      const res = await this.elb.send(
        new DescribeRulesCommand({ ListenerArn: this.options.listenerArn, Marker: marker }),
      );
      out.push(...(res.Rules ?? []));
      marker = res.NextMarker;
    } while (marker);
    return out;
  }
}
