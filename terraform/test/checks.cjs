// Structural checks shared by terraform.test.cjs and by the tests proving they catch what they claim to catch.
const { allReferences } = require('./hcl.cjs');

/** Every var., local., data., module. and resource reference names something declared. */
function referenceProblems(tf) {
  const refs = allReferences(tf.merged);
  const missing = [];
  for (const v of refs.var) if (!tf.merged.variable[v]) missing.push(`var.${v}`);
  for (const l of refs.local) if (!(l in tf.merged.locals)) missing.push(`local.${l}`);
  for (const d of refs.data) {
    const [type, name] = d.split('.');
    if (!tf.merged.data[type]?.[name]) missing.push(`data.${d}`);
  }
  for (const m of refs.module) if (!tf.merged.module[m]) missing.push(`module.${m}`);
  for (const r of refs.resource) {
    const [type, name] = r.split('.');
    if (!tf.merged.resource[type]?.[name]) missing.push(r);
  }
  return missing;
}

const META = new Set(['count', 'for_each', 'depends_on', 'lifecycle', 'provider', 'provisioner', 'connection', 'dynamic']);

/**
 * Every argument and block of every resource and data source is one its type is known to take. The AWS provider's
 * schema is what `terraform validate` would check this against, and it cannot be downloaded here; so the arguments
 * these files use are pinned in arguments.json, each checked against the provider documentation when it was added.
 * A misspelled or invented argument is not in it and fails; a new, real one is added there deliberately.
 */
function argumentProblems(tf, vocabulary) {
  const problems = [];
  for (const kind of ['resource', 'data']) {
    for (const [type, byName] of Object.entries(tf.merged[kind])) {
      const known = vocabulary[kind]?.[type];
      if (!known) {
        problems.push(`${kind} type ${type} is not in arguments.json`);
        continue;
      }
      for (const [name, block] of Object.entries(byName)) {
        for (const arg of Object.keys(block)) {
          if (!META.has(arg) && !known.includes(arg)) problems.push(`${kind}.${type}.${name}: unknown argument ${arg}`);
        }
      }
    }
  }
  return problems;
}

/** The predefined metrics Application Auto Scaling offers for ECS services; any other name is refused by AWS at apply. */
const ECS_METRICS = new Set(['ECSServiceAverageCPUUtilization', 'ECSServiceAverageMemoryUtilization', 'ALBRequestCountPerTarget']);

function metricProblems(tf) {
  const problems = [];
  for (const [name, policy] of Object.entries(tf.merged.resource.aws_appautoscaling_policy ?? {})) {
    for (const config of [].concat(policy.target_tracking_scaling_policy_configuration ?? [])) {
      for (const spec of [].concat(config.predefined_metric_specification ?? [])) {
        if (!ECS_METRICS.has(spec.predefined_metric_type)) problems.push(`${name}: unknown metric ${spec.predefined_metric_type}`);
      }
    }
  }
  return problems;
}

module.exports = { referenceProblems, argumentProblems, metricProblems };
