import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startGitServer, type GitServerHandle } from './gitServer';
import { startGitHubStandin, type GitHubStandinHandle } from './githubStandin';

describe('test helper: GitHub REST stand-in', function () {
  let git: GitServerHandle;
  let gh: GitHubStandinHandle;
  let tmp: string;
  let mainSha: string;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- GitHub JSON, asserted field by field below
  const get = async (p: string, token?: string): Promise<{ status: number; body: any; link: string | null }> => {
    const res = await fetch(`${gh.url}${p}`, {
      headers: { Accept: 'application/vnd.github+json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    });
    return { status: res.status, body: await res.json(), link: res.headers.get('link') };
  };

  before(async function () {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'standin-test-'));
    await fs.writeFile(path.join(tmp, 'index.html'), 'hi\n');
    git = await startGitServer({ tokens: {} });
    gh = await startGitHubStandin({ git });
    gh.addUser('alice', 'tok-alice');
    gh.addUser('bob', 'tok-bob');
    mainSha = await git.addRepo('alice/secret', tmp, { private: true });
    await git.addRepo('alice/open', tmp);
    for (let i = 0; i < 5; i++) await git.addRepo(`carol/r${i}`, tmp, { private: true });
    for (let i = 0; i < 5; i++) gh.grant('alice', `carol/r${i}`);
  });
  after(async function () {
    await gh?.close();
    await git?.close();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('answers /user for a good token and 401 Bad credentials otherwise, recording only token hashes', async function () {
    const ok = await get('/user', 'tok-alice');
    assert.equal(ok.status, 200);
    assert.equal(ok.body.login, 'alice');
    const bad = await get('/user', 'nope');
    assert.equal(bad.status, 401);
    assert.equal(bad.body.message, 'Bad credentials');
    assert.ok(gh.calls.length >= 2);
    assert.ok(gh.calls.every((c) => !c.token || /^[0-9a-f]{64}$/.test(c.token)));
  });

  it('hides a private repo from another user (404) and shows it, with a working clone_url, to its owner', async function () {
    const mine = await get('/repos/alice/secret', 'tok-alice');
    assert.equal(mine.status, 200);
    assert.equal(mine.body.full_name, 'alice/secret');
    assert.equal(mine.body.private, true);
    assert.equal(mine.body.default_branch, 'main');
    assert.equal(mine.body.clone_url, git.cloneUrl('alice/secret'));
    assert.equal((await get('/repos/alice/secret', 'tok-bob')).status, 404);
    assert.equal((await get('/repos/alice/open', 'tok-bob')).status, 200, 'public repos are visible to everyone');
    assert.equal((await get('/api/v3/repos/alice/secret', 'tok-alice')).status, 200, 'GitHub Enterprise prefix');
  });

  it('paginates /user/repos with a Link header like GitHub', async function () {
    const p1 = await get('/user/repos?per_page=3&sort=updated&affiliation=owner,collaborator', 'tok-alice');
    assert.equal(p1.status, 200);
    assert.equal(p1.body.length, 3);
    assert.match(p1.link ?? '', /<[^>]*[?&]page=2[^>]*>; rel="next"/);
    assert.match(p1.link ?? '', /<[^>]*[?&]page=3[^>]*>; rel="last"/);
    const next = /<([^>]+)>; rel="next"/.exec(p1.link ?? '')![1];
    assert.ok(next.startsWith(gh.url));
    const p3 = await get('/user/repos?per_page=3&page=3', 'tok-alice');
    assert.equal(p3.body.length, 1);
    assert.doesNotMatch(p3.link ?? '', /rel="next"/);
    const all = (await get('/user/repos?per_page=100', 'tok-alice')).body.map((r: { full_name: string }) => r.full_name);
    assert.deepEqual(all, ['alice/open', 'alice/secret', 'carol/r0', 'carol/r1', 'carol/r2', 'carol/r3', 'carol/r4']);
    assert.deepEqual((await get('/user/repos', 'tok-bob')).body, []);
  });

  it('resolves branches and commits, 422 for unknown refs', async function () {
    const featureSha = await git.commit('alice/secret', { 'a.txt': 'a' }, { branch: 'feature/x' });
    const branches = await get('/repos/alice/secret/branches?per_page=1', 'tok-alice');
    assert.equal(branches.body.length, 1);
    assert.match(branches.link ?? '', /rel="next"/);
    const branch = await get('/repos/alice/secret/branches/feature/x', 'tok-alice');
    assert.equal(branch.body.commit.sha, featureSha);
    assert.equal((await get('/repos/alice/secret/commits/main', 'tok-alice')).body.sha, mainSha);
    assert.equal((await get(`/repos/alice/secret/commits/${mainSha}`, 'tok-alice')).body.sha, mainSha);
    assert.equal((await get(`/repos/alice/secret/commits/${encodeURIComponent('feature/x')}`, 'tok-alice')).body.sha, featureSha);
    assert.equal((await get('/repos/alice/secret/commits/nope', 'tok-alice')).status, 422);
    assert.equal((await get(`/repos/alice/secret/commits/${'0'.repeat(40)}`, 'tok-alice')).status, 422);
    assert.equal((await get('/repos/alice/secret/commits/--output=x', 'tok-alice')).status, 422);
    assert.equal((await get('/repos/alice/secret/commits/main', 'tok-bob')).status, 404);
  });
});
