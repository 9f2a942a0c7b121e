import assert from 'node:assert/strict';
import { previewNameCandidates } from '../../src/previews/previewNames';

const dnsLabel = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

describe('previews: names', () => {
  it('names a pull request <app>-pr-<n> and a plain branch <app>-<branch>, with a hashed fallback', () => {
    const pr = previewNameCandidates('web-alice', { kind: 'pr', pr: 12, ref: 'feature' });
    assert.equal(pr[0], 'web-alice-pr-12');
    const branch = previewNameCandidates('web-alice', { kind: 'branch', ref: 'staging' });
    assert.equal(branch[0], 'web-alice-staging');
    for (const name of [...pr, ...branch]) assert.match(name, dnsLabel);
    assert.notEqual(pr[1], branch[1]);
  });

  it('hashes a branch whose slug loses something, or that could pass for a pull request', () => {
    const a = previewNameCandidates('web-alice', { kind: 'branch', ref: 'feat/x' });
    const b = previewNameCandidates('web-alice', { kind: 'branch', ref: 'feat-x' });
    assert.equal(a.length, 1);
    assert.match(a[0], /^web-alice-feat-x-[0-9a-f]{6}$/);
    assert.notEqual(a[0], b[0]);
    assert.equal(previewNameCandidates('web-alice', { kind: 'branch', ref: 'pr-3' }).length, 1);
    assert.match(previewNameCandidates('web-alice', { kind: 'branch', ref: 'Feature' })[0], /-[0-9a-f]{6}$/);
  });

  it('keeps long names within one DNS label, distinct per target', () => {
    const app = 'a'.repeat(55);
    const one = previewNameCandidates(app, { kind: 'branch', ref: 'some-long-branch-name' });
    const two = previewNameCandidates(app, { kind: 'branch', ref: 'some-long-branch-other' });
    const pr = previewNameCandidates(app, { kind: 'pr', pr: 123456, ref: 'x' });
    for (const name of [...one, ...two, ...pr]) {
      assert.ok(name.length <= 63, name);
      assert.match(name, dnsLabel);
    }
    assert.notEqual(one[0], two[0]);
    assert.equal(previewNameCandidates('web', { kind: 'branch', ref: '///' })[0].length, 'web-'.length + 6);
  });
});
