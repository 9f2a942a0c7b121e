import assert from 'node:assert/strict';
import { LogIntake } from '../../src/logs/logIntake';
import { envBody } from '../../src/api/schemas';
import { LineStreamMasker, maskSecrets, previewSecret } from '../../src/security/masker';

const PEM = [
  '-----BEGIN PRIVATE KEY-----',
  'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7',
  'VJTUt9Us8cKjMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDu',
  '-----END PRIVATE KEY-----',
].join('\n');

function run(masker: LineStreamMasker, lines: string[]): string[] {
  return [...lines.flatMap((l) => masker.push(l)), ...masker.end()];
}

describe('secret masking', function () {
  it('masks a multi-line secret printed over several lines, whole, even mid-line', function () {
    const masker = new LineStreamMasker();
    masker.setSecrets([PEM]);
    const out = run(masker, ['before', `KEY=${PEM.split('\n')[0]}`, ...PEM.split('\n').slice(1), 'after']);
    assert.deepEqual(out, ['before', 'KEY=••••••', 'after']);
  });

  it('releases lines that only looked like a secret’s start, with the secret’s long lines still masked', function () {
    const masker = new LineStreamMasker();
    masker.setSecrets([PEM]);
    const [armour, body] = PEM.split('\n') as [string, string];
    const out = run(masker, [armour, body, 'not the key']);
    assert.deepEqual(out, [armour, '••••••', 'not the key']);
    assert.ok(!out.join('\n').includes('MIIEvQ'));
  });

  it('masks CRLF and LF forms of a value, and never short values', function () {
    assert.equal(maskSecrets('a\r\nsecret-line-one\r\nb', ['secret-line-one\nsecret-two']), 'a\r\n••••••\r\nb');
    assert.equal(maskSecrets('true 1 abc', ['true', '1', 'abc']), 'true 1 abc');
  });

  it('previews show no character of short values', function () {
    assert.equal(previewSecret('hunter2!x'), '••••••');
    assert.equal(previewSecret('0123456789abcdef'), '••••••ef');
  });

  it('masks the intake’s stream and the fields that leave the platform, and caps output per stage', function () {
    const intake = new LogIntake();
    intake.addSecrets([PEM, 'hunter2hunter2']);
    const lines = intake.accept('runtime', `pw=hunter2hunter2\n${PEM}\nok`).map((l) => l.text);
    assert.deepEqual(lines, ['pw=••••••', '••••••', 'ok']);
    assert.equal(intake.mask(`Last log lines:\n${PEM}`), 'Last log lines:\n••••••');

    const flood = new LogIntake();
    let kept = 0;
    for (let i = 0; i < 200_000; i++) kept += flood.accept('runtime', 'y').length;
    assert.ok(kept < 40_000, `kept ${kept} lines of a flood`);
    assert.equal(flood.accept('deploy', 'platform line').length, 1, 'platform stages are never cut');
  });

  it('refuses env values a process environment cannot carry', function () {
    assert.throws(() => envBody.parse({ env: { A: 'x\0y' } }), /NUL/);
    assert.throws(() => envBody.parse({ env: { A: 'x\uD800y' } }), /Unicode/);
    assert.deepEqual(envBody.parse({ env: { A: `${PEM}\n`, B: '😀' } }).env.B, '😀');
  });
});
