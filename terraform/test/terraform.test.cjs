const assert = require('node:assert/strict');
const { readFileSync } = require('node:fs');
const path = require('node:path');
const { mkdtempSync, readdirSync, rmSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const { loadTerraform, allReferences, strings } = require('./hcl.cjs');
const { argumentProblems, metricProblems, referenceProblems } = require('./checks.cjs');
const VOCABULARY = require('./arguments.json');
const { TABLES } = require('../../backend/src/adapters/store/dynamodb/tables.ts');

const TF_DIR = process.env.TERRAFORM_DIR || path.join(__dirname, '..');
const REPO = path.join(TF_DIR, '..');

/**
 * Actions AWS does not scope to a resource (or that the platform cannot know the ARN of before creating it), the only
 * ones allowed with Resource "*".
 */
const UNSCOPABLE = new Set([
  'ecr:GetAuthorizationToken',
  'ecs:DiscoverPollEndpoint',
  'ecs:RegisterTaskDefinition',
  'ecs:DeregisterTaskDefinition',
  'ecs:DescribeTaskDefinition',
  'ecs:ListTaskDefinitions',
  'elasticloadbalancing:DescribeTargetGroups',
  'elasticloadbalancing:DescribeRules',
  'elasticloadbalancing:DescribeTargetGroupAttributes',
  'application-autoscaling:RegisterScalableTarget',
  'application-autoscaling:DeregisterScalableTarget',
  'application-autoscaling:PutScalingPolicy',
  'application-autoscaling:DescribeScalableTargets',
  'application-autoscaling:DescribeScalingPolicies',
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
]);

const asList = (v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

describe('terraform/', function () {
  let tf;
  let usage;

  before(async function () {
    tf = await loadTerraform(TF_DIR);
    // Uses of a variable count outside its own declaration (a validation block refers to itself).
    usage = allReferences({ ...tf.merged, variable: {} });
  });

  const resource = (type, name) => tf.merged.resource[type]?.[name];
  const resourcesOf = (type) => Object.entries(tf.merged.resource[type] ?? {});

  it('parses every .tf file', function () {
    const names = Object.keys(tf.files);
    for (const expected of ['versions.tf', 'variables.tf', 'network.tf', 'alb.tf', 'ecs.tf', 'storage.tf', 'kafka.tf', 'iam.tf', 'services.tf', 'outputs.tf']) {
      assert.ok(names.includes(expected), `${expected} parsed`);
    }
  });

  it('every referenced variable, local, resource, data source and module exists', function () {
    assert.deepEqual(referenceProblems(tf), []);
  });

  it('every resource and data source argument is one its type takes (arguments.json)', function () {
    assert.deepEqual(argumentProblems(tf, VOCABULARY), []);
  });

  it('autoscaling policies track metrics Application Auto Scaling has', function () {
    assert.deepEqual(metricProblems(tf), []);
  });

  /** The files with one edit, parsed from a scratch copy. */
  async function mutated(file, from, to) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tf-mutant-'));
    try {
      for (const name of readdirSync(TF_DIR).filter((f) => f.endsWith('.tf'))) {
        const text = readFileSync(path.join(TF_DIR, name), 'utf8');
        if (name === file) assert.ok(text.includes(from), `${file} contains ${from}`);
        writeFileSync(path.join(dir, name), name === file ? text.replace(from, to) : text);
      }
      return await loadTerraform(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('the checks catch a misspelled argument, a broken reference and an invalid metric name', async function () {
    const typo = await mutated('network.tf', 'enable_dns_hostnames', 'enable_dns_hostname');
    assert.deepEqual(argumentProblems(typo, VOCABULARY), ['resource.aws_vpc.main: unknown argument enable_dns_hostname']);
    const broken = await mutated('services.tf', 'aws_security_group.apps.id', 'aws_security_group.app.id');
    assert.deepEqual(referenceProblems(broken), ['aws_security_group.app']);
    const metric = await mutated('services.tf', '"ECSServiceAverageMemoryUtilization"', '"ECSServiceAverageMemoryUtilisation"');
    assert.deepEqual(metricProblems(metric), ['service_memory: unknown metric ECSServiceAverageMemoryUtilisation']);
  });

  it('every variable is used, described and typed', function () {
    const problems = [];
    for (const [name, block] of Object.entries(tf.merged.variable)) {
      if (!usage.var.has(name)) problems.push(`var.${name} is never used`);
      if (!block.description) problems.push(`var.${name} has no description`);
      if (!block.type) problems.push(`var.${name} has no type`);
    }
    assert.deepEqual(problems, []);
  });

  it('every local is used', function () {
    const unused = Object.keys(tf.merged.locals).filter((l) => !usage.local.has(l));
    assert.deepEqual(unused, []);
  });

  it('IAM: no wildcard actions; Resource "*" only for actions AWS cannot scope; every role policy is a checked document', function () {
    const problems = [];
    // In a KMS key policy Resource "*" is the key itself, and the account root statement with kms:* is what lets
    // IAM administer the key; any other principal there must be held to this account by a condition.
    const keyPolicies = new Set(
      resourcesOf('aws_kms_key').map(([, key]) => /^\$\{data\.aws_iam_policy_document\.([\w-]+)\.json\}$/.exec(key.policy)?.[1]),
    );
    const accountRoot = '${local.account_id}:root';
    for (const [name, doc] of Object.entries(tf.merged.data.aws_iam_policy_document ?? {})) {
      for (const st of asList(doc.statement)) {
        const label = `${name}/${st.sid ?? '(no sid)'}`;
        if (keyPolicies.has(name)) {
          const principals = asList(st.principals).flatMap((p) => asList(p.identifiers));
          const root = principals.length > 0 && principals.every((p) => p.endsWith(accountRoot));
          if (!root && asList(st.condition).length === 0) problems.push(`${label}: key policy grant without a condition`);
          if (root) continue;
        }
        const actions = asList(st.actions);
        if (actions.length === 0) problems.push(`${label}: no actions`);
        if (st.not_actions) problems.push(`${label}: not_actions`);
        for (const a of actions) if (a.includes('*')) problems.push(`${label}: wildcard action ${a}`);
        const resources = asList(st.resources);
        const deny = st.effect === 'Deny';
        const isAssume = actions.every((a) => a === 'sts:AssumeRole');
        if (!isAssume && resources.length === 0) problems.push(`${label}: no resources`);
        if (resources.includes('*') && !deny && !keyPolicies.has(name)) {
          for (const a of actions) if (!UNSCOPABLE.has(a)) problems.push(`${label}: ${a} on Resource "*"`);
        }
        for (const p of asList(st.principals)) {
          if (asList(p.identifiers).includes('*') && !deny) problems.push(`${label}: Allow to principal "*"`);
        }
      }
    }
    for (const type of ['aws_iam_role_policy', 'aws_iam_policy', 'aws_s3_bucket_policy']) {
      for (const [name, block] of resourcesOf(type)) {
        if (!/^\$\{data\.aws_iam_policy_document\.[\w-]+\.json\}$/.test(block.policy)) problems.push(`${type}.${name}: inline policy not from a policy document`);
      }
    }
    for (const [name, block] of resourcesOf('aws_iam_role')) {
      if (!/^\$\{data\.aws_iam_policy_document\.[\w-]+\.json\}$/.test(block.assume_role_policy)) problems.push(`aws_iam_role.${name}: inline trust policy`);
    }
    assert.deepEqual(problems, []);
    // Only this stack's own checked policies are attached (the Jenkins agents'), never an AWS managed (broad) one.
    for (const [name, block] of resourcesOf('aws_iam_role_policy_attachment')) {
      assert.match(block.policy_arn, /^\$\{aws_iam_policy\.[\w-]+\.arn\}$/, `aws_iam_role_policy_attachment.${name} attaches a policy of another`);
    }
  });

  it('outputs give the API URL over HTTPS and everything the backend needs', function () {
    const out = tf.merged.output;
    assert.ok(out.api_url, 'output api_url');
    assert.equal(out.api_url.value, '${local.api_url}');
    assert.match(tf.merged.locals.api_url, /^https:\/\//);
    for (const name of ['alb_listener_arn', 'vpc_id', 'private_subnet_ids', 'ecs_cluster_name', 'artifact_bucket', 'dynamodb_table_prefix', 'kafka_bootstrap_brokers', 'task_execution_role_arn', 'backend_env']) {
      assert.ok(out[name], `output ${name}`);
    }
    for (const [name, block] of Object.entries(out)) assert.ok(block.description, `output ${name} has a description`);
  });

  it('the backend environment sets only variables backend/src/config.ts reads, and every one the AWS mode needs', function () {
    const config = readFileSync(path.join(REPO, 'backend/src/config.ts'), 'utf8');
    const env = tf.merged.locals.backend_env;
    for (const key of Object.keys(env)) assert.ok(config.includes(key), `${key} is read by config.ts`);
    for (const key of ['CLOUDSMITH_STORE', 'CLOUDSMITH_ARTIFACTS', 'CLOUDSMITH_RUNTIME', 'CLOUDSMITH_BUS', 'KAFKA_BROKERS', 'CLOUDSMITH_S3_BUCKET', 'CLOUDSMITH_DYNAMODB_PREFIX', 'CLOUDSMITH_ALB_LISTENER_ARN', 'CLOUDSMITH_VPC_ID', 'CLOUDSMITH_ECS_SUBNETS', 'CLOUDSMITH_ECS_CLUSTER']) {
      assert.ok(key in env, `backend_env sets ${key}`);
    }
    assert.equal(env.CLOUDSMITH_STORE, 'dynamodb');
    assert.equal(env.CLOUDSMITH_ARTIFACTS, 's3');
    assert.equal(env.CLOUDSMITH_RUNTIME, 'ecs');
    assert.equal(env.CLOUDSMITH_DYNAMODB_PREFIX, '${local.table_prefix}');
  });

  it('DynamoDB tables match what DynamoStore creates (keys, attributes, indexes), with point-in-time recovery', function () {
    const tables = resourcesOf('aws_dynamodb_table');
    assert.equal(tables.length, TABLES.length, 'one table per DynamoStore table');
    for (const spec of TABLES) {
      const entry = tables.find(([, t]) => t.name === `\${local.table_prefix}${spec.suffix}`);
      assert.ok(entry, `table ${spec.suffix}`);
      const [name, t] = entry;
      assert.equal(t.billing_mode, 'PAY_PER_REQUEST', name);
      assert.equal(t.hash_key, spec.hash.name, `${name} hash key`);
      assert.equal(t.range_key, spec.range?.name, `${name} range key`);
      const expectedAttrs = new Map();
      for (const k of [spec.hash, spec.range, ...spec.indexes.flatMap((i) => [i.hash, i.range])]) if (k) expectedAttrs.set(k.name, k.type);
      const attrs = new Map(asList(t.attribute).map((a) => [a.name, a.type]));
      assert.deepEqual([...attrs].sort(), [...expectedAttrs].sort(), `${name} attributes`);
      const gsis = asList(t.global_secondary_index)
        .map((g) => ({ name: g.name, hash: g.hash_key, range: g.range_key, projection: g.projection_type }))
        .sort((a, b) => a.name.localeCompare(b.name));
      const expectedGsis = spec.indexes
        .map((i) => ({ name: i.name, hash: i.hash.name, range: i.range?.name, projection: 'ALL' }))
        .sort((a, b) => a.name.localeCompare(b.name));
      assert.deepEqual(gsis, expectedGsis, `${name} indexes`);
      assert.equal(asList(t.point_in_time_recovery)[0]?.enabled, true, `${name} PITR`);
      if (spec.ttlAttribute) {
        assert.equal(asList(t.ttl)[0]?.attribute_name, spec.ttlAttribute, `${name} TTL`);
        assert.equal(asList(t.ttl)[0]?.enabled, true, `${name} TTL enabled`);
      }
    }
  });

  it('network: public and private subnets in two AZs, a NAT gateway, private routes through it', function () {
    assert.equal(resource('aws_subnet', 'public').count, 2);
    assert.equal(resource('aws_subnet', 'private').count, 2);
    assert.match(resource('aws_subnet', 'private').availability_zone, /local\.azs\[count\.index\]/);
    assert.match(tf.merged.locals.azs, /slice\(data\.aws_availability_zones\.available\.names, 0, 2\)/);
    assert.ok(resource('aws_nat_gateway', 'main'));
    assert.match(asList(resource('aws_route_table', 'private').route)[0].nat_gateway_id, /aws_nat_gateway\.main/);
  });

  it('ALB: HTTPS with the ACM certificate variable, HTTP redirects to HTTPS, wildcard DNS for apps', function () {
    const https = resource('aws_lb_listener', 'https');
    assert.equal(https.protocol, 'HTTPS');
    assert.equal(https.port, 443);
    assert.equal(https.certificate_arn, '${var.certificate_arn}');
    const redirect = asList(resource('aws_lb_listener', 'http_redirect').default_action)[0];
    assert.equal(redirect.type, 'redirect');
    assert.equal(asList(redirect.redirect)[0].protocol, 'HTTPS');
    assert.equal(resource('aws_route53_record', 'apps_wildcard').name, '*.${local.apps_domain}');
    const tg = asList(resource('aws_lb_target_group', 'api').health_check)[0];
    assert.equal(tg.interval, 5);
  });

  it('ECS: Fargate, Fargate Spot and an EC2 Auto Scaling group capacity provider; four backend services with circuit breaker and autoscaling on CPU and memory', function () {
    assert.deepEqual(resource('aws_ecs_cluster_capacity_providers', 'main').capacity_providers, ['FARGATE', 'FARGATE_SPOT', '${aws_ecs_capacity_provider.ec2.name}']);
    const ec2 = asList(resource('aws_ecs_capacity_provider', 'ec2').auto_scaling_group_provider)[0];
    assert.equal(ec2.auto_scaling_group_arn, '${aws_autoscaling_group.ecs.arn}');
    assert.equal(asList(ec2.managed_scaling)[0].status, 'ENABLED');
    assert.equal(asList(resource('aws_autoscaling_group', 'ecs').launch_template)[0].id, '${aws_launch_template.ecs.id}');
    assert.equal(resource('aws_appautoscaling_policy', 'service_memory').for_each, '${var.services}');
    assert.equal(
      asList(asList(resource('aws_appautoscaling_policy', 'service_memory').target_tracking_scaling_policy_configuration)[0].predefined_metric_specification)[0].predefined_metric_type,
      'ECSServiceAverageMemoryUtilization',
    );
    const env = tf.merged.locals.backend_env;
    assert.equal(env.CLOUDSMITH_ECS_CAPACITY, '${local.capacity_providers[var.app_capacity]}');
    assert.equal(env.CLOUDSMITH_ECR_APP_REPOSITORY, '${aws_ecr_repository.apps.name}');
    assert.equal(env.CLOUDSMITH_RELEASE_OWNER, 'lambda', 'one owner per release: the Lambda');
    assert.deepEqual(Object.keys(tf.merged.variable.services.default).sort(), ['api', 'buildrelay', 'docksage', 'gitpulse']);
    const svc = resource('aws_ecs_service', 'service');
    assert.equal(svc.for_each, '${var.services}');
    assert.equal(asList(svc.deployment_circuit_breaker)[0].enable, true);
    assert.equal(asList(svc.deployment_circuit_breaker)[0].rollback, true);
    assert.equal(resource('aws_appautoscaling_target', 'service').for_each, '${var.services}');
    assert.equal(resource('aws_appautoscaling_policy', 'service_cpu').policy_type, 'TargetTrackingScaling');
    for (const name of ['services', 'apps', 'lambda']) assert.ok(resource('aws_cloudwatch_log_group', name), `log group ${name}`);
  });

  it('S3: encrypted, versioned, lifecycle, public access blocked', function () {
    assert.equal(asList(resource('aws_s3_bucket_versioning', 'artifacts').versioning_configuration)[0].status, 'Enabled');
    assert.ok(resource('aws_s3_bucket_server_side_encryption_configuration', 'artifacts'));
    const rules = asList(resource('aws_s3_bucket_lifecycle_configuration', 'artifacts').rule);
    assert.ok(rules.some((r) => r.abort_incomplete_multipart_upload), 'incomplete multipart uploads are aborted');
    assert.ok(rules.some((r) => r.noncurrent_version_expiration), 'old versions expire');
    assert.equal(resource('aws_s3_bucket_public_access_block', 'artifacts').block_public_policy, true);
  });

  it('build caches: cache/ expires after var.cache_retention_days; only builders reach it, only there', function () {
    const rules = asList(resource('aws_s3_bucket_lifecycle_configuration', 'artifacts').rule);
    const cache = rules.find((r) => asList(r.filter)[0]?.prefix === 'cache/');
    assert.ok(cache, 'a lifecycle rule on cache/');
    assert.equal(cache.status, 'Enabled');
    assert.equal(asList(cache.expiration)[0].days, '${var.cache_retention_days}');
    const doc = tf.merged.data.aws_iam_policy_document;
    const statements = (name) => asList(doc[name].statement);
    // The cache document reaches objects under cache/* and nothing else.
    for (const st of statements('build_cache')) assert.deepEqual(asList(st.resources), ['${aws_s3_bucket.artifacts.arn}/cache/*']);
    assert.equal(resource('aws_iam_role_policy', 'platform_build_cache').role, '${aws_iam_role.platform_task.id}');
    // The Lambda releases and never builds: no cache access (the platform document has none either).
    assert.ok(!JSON.stringify(doc.platform).includes('/cache/'), 'the shared platform document reaches cache/');
    assert.deepEqual(asList(doc.jenkins_agent.source_policy_documents), ['${data.aws_iam_policy_document.build_cache.json}']);
    for (const st of statements('jenkins_agent')) assert.deepEqual(asList(st.resources), ['${aws_s3_bucket.artifacts.arn}/artifacts/*']);
  });

  it('Lambda: invoked by S3 on artifacts/*.tar.gz with a scoped permission; its handler file exists', function () {
    const fn = resource('aws_lambda_function', 'artifact_uploaded');
    assert.equal(fn.handler, 'artifact-uploaded.handler');
    assert.ok(readFileSync(path.join(REPO, 'backend/src/lambda/artifact-uploaded.ts'), 'utf8').includes('export async function handler'));
    const perm = resource('aws_lambda_permission', 's3_invoke');
    assert.equal(perm.principal, 's3.amazonaws.com');
    assert.equal(perm.source_arn, '${aws_s3_bucket.artifacts.arn}');
    const n = asList(resource('aws_s3_bucket_notification', 'artifact_uploaded').lambda_function)[0];
    assert.equal(n.filter_prefix, 'artifacts/');
    assert.equal(n.filter_suffix, '.tar.gz');
    assert.deepEqual(n.events, ['s3:ObjectCreated:*']);
    assert.ok(resource('aws_msk_cluster', 'main'), 'Kafka (MSK) for the bus');
  });

  it('security: apps have their own group MSK does not admit, no task role permissions, and the Lambda env holds no platform key', function () {
    assert.equal(tf.merged.locals.backend_env.CLOUDSMITH_ECS_SECURITY_GROUPS, '${aws_security_group.apps.id}');
    const kafkaFrom = resourcesOf('aws_vpc_security_group_ingress_rule')
      .filter(([, r]) => r.security_group_id === '${aws_security_group.kafka.id}')
      .map(([, r]) => r.referenced_security_group_id);
    assert.deepEqual(kafkaFrom, ['${aws_security_group.tasks.id}']);
    const appRolePolicies = resourcesOf('aws_iam_role_policy').filter(([, r]) => r.role === '${aws_iam_role.app_task.id}');
    assert.deepEqual(appRolePolicies, [], 'apps run with a role without permissions: their artifact is in their image');
    const fn = resource('aws_lambda_function', 'artifact_uploaded');
    const vars = strings(fn.environment).join('\n');
    assert.doesNotMatch(vars, /random_password/, 'no platform key in plain text');
    assert.match(vars, /CLOUDSMITH_SECRET_KEY_ARN/);
  });

  it('README names every variable and output', function () {
    const readme = readFileSync(path.join(TF_DIR, 'README.md'), 'utf8');
    const missing = [...Object.keys(tf.merged.variable), ...Object.keys(tf.merged.output)].filter((v) => !readme.includes(`\`${v}\``));
    assert.deepEqual(missing, []);
  });
});
