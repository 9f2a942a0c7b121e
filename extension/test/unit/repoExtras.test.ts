import assert from 'node:assert/strict';
import type { AppView } from '@cloudsmith/client';
import { extraNodes, extraNodeView, previewNodes, productionBranch, splitApps } from '../../src/model/repoExtras';
import { nodeId, nodeView, type RepoInfo } from '../../src/model/tree';

const repo: RepoInfo = { fullName: 'alice/site', defaultBranch: 'main', private: false };
const prod: AppView = { name: 'site', repo: 'alice/site', url: 'http://site.localhost:1', liveDeploymentId: 'd1' };
const pr7: AppView = {
  name: 'site-pr-7',
  repo: 'alice/site',
  url: 'http://site-pr-7.localhost:1',
  liveDeploymentId: 'd2',
  preview: { of: 'site', kind: 'pr', ref: 'fix', pr: 7 },
};
const pr9: AppView = { ...pr7, name: 'site-pr-9', preview: { of: 'site', kind: 'pr', ref: 'feat', pr: 9 } };
const branch: AppView = {
  name: 'site-docs',
  repo: 'alice/site',
  url: null,
  liveDeploymentId: null,
  preview: { of: 'site', kind: 'branch', ref: 'docs' },
};

describe('extension: previews and the Deploy on Push row in the tree', () => {
  it('the repo row stays the production app; previews are grouped under it, whatever the list order', () => {
    const { production, previews } = splitApps([pr7, prod, branch]);
    assert.equal(production.get('alice/site'), prod);
    assert.deepEqual(previews.get('site'), [pr7, branch]);
  });

  it('Previews folder only when the app has previews; the toggle only under the workspace repo', () => {
    assert.deepEqual(extraNodes(repo, { app: prod, previews: [] }), []);
    const nodes = extraNodes(repo, { app: prod, previews: [pr7], workspaceRepo: 'Alice/Site' });
    assert.deepEqual(
      nodes.map((n) => n.kind),
      ['pushToggle', 'previewsFolder'],
    );
    assert.deepEqual(
      extraNodes(repo, { workspaceRepo: 'alice/other' }).map((n) => n.kind),
      [],
    );
  });

  it('previews: PRs newest first, then branches; a live one opens its URL, a pending one says so', () => {
    const nodes = previewNodes(repo, [branch, pr7, pr9]);
    assert.deepEqual(
      nodes.map((n) => nodeView(n).label),
      ['PR #9', 'PR #7', 'branch docs'],
    );
    const live = nodeView(nodes[1]);
    assert.equal(live.description, 'http://site-pr-7.localhost:1');
    assert.equal(live.contextValue, 'preview.live');
    assert.equal(live.command, 'cloudsmith.openApp');
    const pending = nodeView(nodes[2]);
    assert.equal(pending.description, 'not live');
    assert.equal(pending.command, undefined);
    assert.equal(nodeId(nodes[1]), 'preview:site-pr-7');
    assert.deepEqual(
      previewNodes(repo, []).map((n) => n.kind),
      ['noPreviews'],
    );
  });

  it('pushes of the production branch deploy: the webhook says which, else the last deployed branch, else HEAD', () => {
    const sha = 'f'.repeat(40);
    assert.equal(productionBranch({ hookBranch: 'prod', lastRef: 'main', checkedOut: 'dev' }), 'prod');
    assert.equal(productionBranch({ lastRef: 'main', checkedOut: 'dev' }), 'main');
    assert.equal(productionBranch({ lastRef: sha, checkedOut: 'dev' }), 'dev');
    assert.equal(productionBranch({}), 'main');
  });

  it('the toggle row says off, on for a branch, or on via the webhook, and toggles on click', () => {
    const off = extraNodeView({ kind: 'pushToggle', repo });
    assert.equal(off.description, 'off');
    assert.equal(off.command, 'cloudsmith.toggleDeployOnPush');
    const on = extraNodeView({ kind: 'pushToggle', repo, setting: { branch: 'main', mode: 'deploy' } });
    assert.equal(on.description, 'on · main');
    assert.equal(on.contextValue, 'pushToggle.on');
    const follow = extraNodeView({ kind: 'pushToggle', repo, setting: { branch: 'main', mode: 'follow' } });
    assert.equal(follow.description, 'on · main via webhook');
  });
});
