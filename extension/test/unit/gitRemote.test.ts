import assert from 'node:assert/strict';
import { originUrl, repoFromRemote, webHostFor } from '../../src/model/gitRemote';

describe('extension: workspace repository detection', () => {
  it('maps API URLs to web hosts (github.com and Enterprise)', () => {
    assert.equal(webHostFor('https://api.github.com'), 'github.com');
    assert.equal(webHostFor('https://ghe.corp.example/api/v3'), 'ghe.corp.example');
  });

  it('reads owner/name from https, ssh and scp-like remotes on that host only', () => {
    assert.equal(repoFromRemote('https://github.com/alice/site.git', 'github.com'), 'alice/site');
    assert.equal(repoFromRemote('git@github.com:alice/site.git', 'github.com'), 'alice/site');
    assert.equal(repoFromRemote('ssh://git@github.com/alice/my.site', 'github.com'), 'alice/my.site');
    assert.equal(repoFromRemote('https://gitlab.com/alice/site.git', 'github.com'), undefined);
    assert.equal(repoFromRemote('https://github.com/alice', 'github.com'), undefined);
  });

  it('prefers the origin remote in .git/config', () => {
    const config =
      '[core]\n\tbare = false\n[remote "upstream"]\n\turl = https://github.com/org/site.git\n[remote "origin"]\n\turl = git@github.com:alice/site.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n';
    assert.equal(originUrl(config), 'git@github.com:alice/site.git');
    assert.equal(originUrl('[remote "fork"]\n\turl = https://github.com/bob/site\n'), 'https://github.com/bob/site');
    assert.equal(originUrl('[core]\n'), undefined);
  });
});
