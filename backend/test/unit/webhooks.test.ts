import assert from 'node:assert/strict';
import type { App, Deployment } from '../../src/domain/deployment';
import { UnauthorizedError } from '../../src/domain/errors';
import type { GitHubUser } from '../../src/ports/source';
import type { Store } from '../../src/ports/store';
import type { Operations } from '../../src/api/operations';
import type { Authspire } from '../../src/services/authspire/authspire';
import { deployPush, type PushPayload } from '../../src/api/webhooks/pushDeploy';
import { sign, signatureMatches } from '../../src/api/webhooks/signature';

describe('webhooks: signature', () => {
  const secret = 'a'.repeat(64);
  const body = Buffer.from('{"ref":"refs/heads/main"}');

  it('accepts GitHub’s sha256= HMAC of the raw body, in either hex case', () => {
    assert.equal(signatureMatches(secret, body, sign(secret, body)), true);
    assert.equal(signatureMatches(secret, body, sign(secret, body).toUpperCase().replace('SHA256', 'sha256')), true);
  });

  it('refuses another secret, another body, a missing or malformed header', () => {
    assert.equal(signatureMatches(secret, body, sign('b'.repeat(64), body)), false);
    assert.equal(signatureMatches(secret, Buffer.from(`${body.toString()} `), sign(secret, body)), false);
    assert.equal(signatureMatches(secret, body, undefined), false);
    assert.equal(signatureMatches(secret, body, sign(secret, body).slice(0, -2)), false);
    assert.equal(signatureMatches(secret, body, sign(secret, body).replace('sha256=', 'sha1=')), false);
  });
});

describe('webhooks: who a push deploys as', () => {
  const app: App = { name: 'web-alice', ownerId: '1', ownerLogin: 'alice', repo: 'alice/web', createdAt: '' };
  const hook = {
    secret: 's'.repeat(64),
    branch: 'main',
    ownerId: '1',
    token: 'ghp_sealed',
    deployOnPush: true,
    previews: false,
  };
  const push: PushPayload = { ref: 'refs/heads/main', after: 'a'.repeat(40), repository: { full_name: 'alice/web' } };

  function deps(authenticate: () => Promise<GitHubUser>) {
    const deployed: string[] = [];
    const store = { getApp: (name: string) => Promise.resolve(name === app.name ? app : undefined) } as Store;
    const operations = {
      deployCommit: (_c: unknown, _a: string, _r: string, sha: string) => {
        deployed.push(sha);
        return Promise.resolve({ id: 'd1' } as Deployment);
      },
    } as unknown as Operations;
    const authspire = { authenticate } as unknown as Authspire;
    return { deps: { store, operations, authspire }, deployed };
  }

  it("deploys the pushed commit when GitHub still says the sealed token is the owner's", async () => {
    const { deps: d, deployed } = deps(() => Promise.resolve({ id: '1', login: 'alice' }));
    const outcome = await deployPush(d, app.name, hook, push);
    assert.equal(outcome.status, 202);
    assert.deepEqual(deployed, [push.after]);
  });

  it('deploys nothing when GitHub refuses the token (403), or it now belongs to someone else', async () => {
    const refused = deps(() => Promise.reject(new UnauthorizedError('revoked')));
    assert.equal((await deployPush(refused.deps, app.name, hook, push)).status, 403);
    const other = deps(() => Promise.resolve({ id: '2', login: 'mallory' }));
    assert.equal((await deployPush(other.deps, app.name, hook, push)).status, 403);
    assert.deepEqual([...refused.deployed, ...other.deployed], []);
  });

  it('ignores a push of another repo, a deleted branch, or an app that is gone', async () => {
    const { deps: d, deployed } = deps(() => Promise.resolve({ id: '1', login: 'alice' }));
    const other = await deployPush(d, app.name, hook, { ...push, repository: { full_name: 'alice/other' } });
    assert.equal(other.status, 202);
    assert.equal((await deployPush(d, app.name, hook, { ...push, deleted: true })).status, 202);
    assert.equal((await deployPush(d, 'gone-alice', hook, push)).status, 202);
    assert.deepEqual(deployed, []);
  });
});
