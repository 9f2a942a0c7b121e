import assert from 'node:assert/strict';
import { must } from './must';
import type { AppView, DeploymentView } from '@cloudsmith/client';
import {
  branchNodes,
  deploymentNodes,
  nodeId,
  nodeView,
  repoChildren,
  rootNodes,
  type RepoInfo,
  type TreeNode,
} from '../../src/model/tree';

const site: RepoInfo = { fullName: 'alice/site', defaultBranch: 'main', private: false };
const api: RepoInfo = { fullName: 'alice/api', defaultBranch: 'trunk', private: true };
const NOW = Date.parse('2026-01-01T12:00:00Z');

function deployment(over: Partial<DeploymentView>): DeploymentView {
  return {
    id: '11111111-2222-4333-8444-555555555555',
    app: 'alice-site',
    repo: 'alice/site',
    ref: 'main',
    commitSha: 'abcdef0123456789',
    status: 'live',
    url: 'http://alice-site.localhost:8080',
    error: null,
    createdAt: '2026-01-01T11:55:00Z',
    updatedAt: '2026-01-01T11:56:00Z',
    timings: {},
    ...over,
  };
}

describe('extension: repositories tree model', () => {
  it('is empty when signed out (the welcome view shows Sign In), and offers Retry when the backend is unreachable', () => {
    assert.deepEqual(rootNodes({ signedIn: false }), []);
    const [down] = rootNodes({
      signedIn: true,
      backend: 'unreachable',
      apiUrl: 'http://127.0.0.1:8080',
      message: 'connect ECONNREFUSED',
    });
    const view = nodeView(down);
    assert.match(view.label, /unreachable.*Retry/);
    assert.equal(view.command, 'cloudsmith.refresh');
    assert.match(must(view.tooltip), /ECONNREFUSED/);
  });

  it('distinguishes no repositories from a filter that matches none', () => {
    assert.deepEqual(rootNodes({ signedIn: true, backend: 'ok', repos: [], apps: new Map() }), [
      { kind: 'empty', filtered: false },
    ]);
    assert.deepEqual(rootNodes({ signedIn: true, backend: 'ok', repos: [site], filter: 'zzz', apps: new Map() }), [
      { kind: 'empty', filtered: true },
    ]);
    const [err] = rootNodes({ signedIn: true, backend: 'ok', repos: { error: 'Bad credentials' }, apps: new Map() });
    assert.equal(nodeView(err).tooltip, 'Bad credentials');
  });

  it('lists repos sorted and filtered, marking the live ones with their URL', () => {
    const app: AppView = {
      name: 'alice-site',
      repo: 'alice/site',
      url: 'http://alice-site.localhost:8080',
      liveDeploymentId: 'x',
    };
    const nodes = rootNodes({
      signedIn: true,
      backend: 'ok',
      repos: [site, api],
      apps: new Map([['alice/site', app]]),
    });
    assert.deepEqual(
      nodes.map((n) => nodeView(n).label),
      ['alice/api', 'alice/site'],
    );
    const [apiView, siteView] = nodes.map((n) => nodeView(n));
    assert.equal(siteView.contextValue, 'repo.live');
    assert.equal(siteView.description, app.url);
    assert.equal(siteView.icon, 'globe');
    assert.equal(apiView.contextValue, 'repo');
    assert.equal(apiView.icon, 'lock');
    const filtered = rootNodes({ signedIn: true, backend: 'ok', repos: [site, api], filter: 'SIT', apps: new Map() });
    assert.deepEqual(
      filtered.map((n) => nodeView(n).label),
      ['alice/site'],
    );
  });

  it('expands a repo to deployments and branches, default branch first', () => {
    assert.deepEqual(
      repoChildren(site).map((n) => n.kind),
      ['deploymentsFolder', 'branchesFolder'],
    );
    const branches = branchNodes(api, ['feature', 'alpha', 'trunk']).map((n) => nodeView(n));
    assert.deepEqual(
      branches.map((b) => b.label),
      ['trunk', 'alpha', 'feature'],
    );
    assert.equal(branches[0].description, 'default');
  });

  it('shows deployments with status icon, age and short commit, and context values for the menus', () => {
    const live = deployment({});
    const running = deployment({ id: 'r', status: 'building', url: null, createdAt: '2026-01-01T11:59:50Z' });
    const old = deployment({ id: 'o', status: 'superseded', createdAt: '2025-12-30T12:00:00Z' });
    const failed = deployment({ id: 'f', status: 'failed', url: null, error: 'npm run build exited with code 1' });
    const views = deploymentNodes(site, [running, live, old, failed], live.id).map((n) => nodeView(n, NOW));
    assert.deepEqual(
      views.map((v) => v.contextValue),
      ['deployment.running', 'deployment.live', 'deployment.past', 'deployment.done'],
    );
    assert.deepEqual(
      views.map((v) => v.icon),
      ['sync~spin', 'pass-filled', 'history', 'error'],
    );
    assert.equal(views[1].description, 'live (serving) · 5m ago · abcdef0');
    assert.equal(views[0].description, 'building · 10s ago · abcdef0');
    assert.match(must(views[2].description), /^superseded · 2d ago/);
    assert.match(must(views[3].tooltip), /Error: npm run build exited with code 1/);
    // The short name first, the id last: what a screen reader and a hover read.
    assert.match(must(views[3].tooltip), /^main · failed/);
    assert.match(must(views[3].tooltip), /Deployment f$/);
    assert.equal(views[1].accessibilityLabel, 'main, live (serving), 5m ago, commit abcdef0');
    assert.deepEqual(deploymentNodes(site, [], null), [{ kind: 'noDeployments', repo: site }]);
    assert.equal(
      deploymentNodes(
        site,
        Array.from({ length: 30 }, (_, i) => deployment({ id: String(i) })),
        null,
      ).length,
      10,
    );
  });

  it("puts the first error line in a failed deployment's tooltip, and marks the repo row", () => {
    const failed = deployment({ id: 'f', status: 'failed', url: null, error: '`npm run build` exited with code 2' });
    const [node] = deploymentNodes(site, [failed], null);
    const view = nodeView({ ...node, cause: 'Error: Cannot find module x' } as TreeNode, NOW);
    assert.match(must(view.tooltip), /Error: Error: Cannot find module x \(`npm run build` exited with code 2\)/);
    const [repo] = rootNodes({
      signedIn: true,
      backend: 'ok',
      repos: [site],
      apps: new Map(),
      attention: new Map([['alice/site', { status: 'failed', cause: 'Error: Cannot find module x' }]]),
    });
    const repoView = nodeView(repo);
    assert.equal(repoView.icon, 'error');
    assert.equal(repoView.description, 'last deploy failed');
    assert.match(must(repoView.tooltip), /last deploy failed: Error: Cannot find module x/);
    assert.match(must(repoView.accessibilityLabel), /^site, last deploy failed/);
  });

  it('marks a live app that crashes or errors with a warning icon and the reason in the tooltip', () => {
    const app = (health: AppView['health']): AppView => ({
      name: 'alice-site',
      repo: 'alice/site',
      url: 'http://alice-site.localhost:8080',
      liveDeploymentId: 'd1',
      health,
    });
    const view = (health: AppView['health']) =>
      nodeView(
        rootNodes({ signedIn: true, backend: 'ok', repos: [site], apps: new Map([['alice/site', app(health)]]) })[0],
      );
    const sick = view({ state: 'erroring', reason: '40% 5xx in the last 5 min' });
    assert.equal(sick.icon, 'warning');
    assert.equal(sick.description, 'app erroring · http://alice-site.localhost:8080');
    assert.match(must(sick.tooltip), /The live app is returning server errors \(5xx\): 40% 5xx in the last 5 min/);
    assert.equal(view({ state: 'crashing' }).icon, 'warning');
    assert.equal(view({ state: 'healthy' }).icon, 'globe');
    assert.equal(view(undefined).icon, 'globe');
  });

  it('gives rows stable ids so expansion survives a refresh', () => {
    assert.equal(nodeId(repoChildren(site)[0]), 'deployments:alice/site');
    assert.equal(nodeId(branchNodes(site, ['main'])[0]), 'branch:alice/site:main');
    assert.equal(nodeId(deploymentNodes(site, [deployment({ id: 'd1' })], null)[0]), 'deployment:d1');
    assert.equal(nodeId({ kind: 'empty', filtered: false }), undefined);
  });
});
