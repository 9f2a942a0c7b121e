// The field's tools as tests: `terraform fmt -check`, tflint and checkov, each run by tools-check.sh (the one place
// their command lines live). run.sh builds the tools first (tools.sh, cached) and passes TF_TOOLS_ERROR when it could
// not, so a missing tool is a failed test, never a silent skip.
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const { readdirSync, readFileSync } = require('node:fs');
const path = require('node:path');

const TF_DIR = process.env.TERRAFORM_DIR;
const CHECK = path.join(__dirname, 'tools-check.sh');

function runTool(tool) {
  assert.equal(process.env.TF_TOOLS_ERROR ?? '', '', 'terraform/test/tools.sh could not build the tools');
  const res = spawnSync('bash', [CHECK, tool], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const output = `${res.stdout}${res.stderr}`;
  assert.equal(res.status, 0, `${tool} reported findings:\n${output}`);
  return output;
}

describe('terraform/ with the field\'s tools (fmt, tflint, checkov)', function () {
  this.timeout(600_000);

  it('terraform fmt -check: every file is formatted', function () {
    runTool('fmt');
  });

  it('tflint: no findings (bundled Terraform ruleset, .tflint.hcl)', function () {
    runTool('tflint');
  });

  it('checkov: no failed check', function () {
    const output = runTool('checkov');
    const counts = /Passed checks: (\d+), Failed checks: (\d+)/.exec(output);
    assert.ok(counts, `checkov printed no summary:\n${output}`);
    assert.ok(Number(counts[1]) > 0, 'checkov ran no check');
    assert.equal(Number(counts[2]), 0);
  });

  it('every checkov skip names a check and says why', function () {
    const bad = [];
    for (const file of readdirSync(TF_DIR).filter((f) => f.endsWith('.tf'))) {
      readFileSync(path.join(TF_DIR, file), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (!/checkov:skip/.test(line)) return;
          if (!/^\s*#checkov:skip=CKV2?_AWS_\d+:\S.{9,}$/.test(line)) bad.push(`${file}:${i + 1}: ${line.trim()}`);
        });
    }
    assert.deepEqual(bad, []);
  });
});
