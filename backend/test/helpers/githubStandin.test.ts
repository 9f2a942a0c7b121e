import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GitHubRest } from '../../src/adapters/github/githubRest';
import { isValidRef, isValidRepoFullName } from '../../src/domain/repoNames';
import { NotFoundError, UnauthorizedError, UserFacingError } from '../../src/domain/errors';
import { startGitServer, type GitServerHandle } from './gitServer';
import { startGitHubStandin, type GitHubStandinHandle } from './githubStandin';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One field of a GitHub JSON object answer; the test fails if the answer is not an object. */
function field(body: unknown, key: string): unknown {
  if (!isObject(body)) assert.fail(`expected a JSON object, got ${JSON.stringify(body)}`);
  return body[key];
}

/** A GitHub JSON list answer; the test fails if the answer is not an array. */
function list(body: unknown): unknown[] {
  if (!Array.isArray(body)) assert.fail(`expected a JSON array, got ${JSON.stringify(body)}`);
  const items: unknown[] = body;
  return items;
}

/** Handles are assigned in before(), which may have failed first: close only what exists. */
async function closeAll(handles: ({ close(): Promise<void> } | undefined)[]): Promise<void> {
  for (const h of handles) await h?.close();
}

describe('test helper: GitHub REST stand-in', function () {
  let git: GitServerHandle;
  let gh: GitHubStandinHandle;
  let tmp: string;
  let mainSha: string;

  const get = async (p: string, token?: string): Promise<{ status: number; body: unknown; link: string | null }> => {
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
    await closeAll([gh, git]);
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('answers /user for a good token and 401 Bad credentials otherwise, recording only token hashes', async function () {
    const ok = await get('/user', 'tok-alice');
    assert.equal(ok.status, 200);
    assert.equal(field(ok.body, 'login'), 'alice');
    const bad = await get('/user', 'nope');
    assert.equal(bad.status, 401);
    assert.equal(field(bad.body, 'message'), 'Bad credentials');
    assert.ok(gh.calls.length >= 2);
    assert.ok(gh.calls.every((c) => !c.token || /^[0-9a-f]{64}$/.test(c.token)));
  });

  it('hides a private repo from another user (404) and shows it, with a working clone_url, to its owner', async function () {
    const mine = await get('/repos/alice/secret', 'tok-alice');
    assert.equal(mine.status, 200);
    assert.equal(field(mine.body, 'full_name'), 'alice/secret');
    assert.equal(field(mine.body, 'private'), true);
    assert.equal(field(mine.body, 'default_branch'), 'main');
    assert.equal(field(mine.body, 'clone_url'), git.cloneUrl('alice/secret'));
    assert.equal((await get('/repos/alice/secret', 'tok-bob')).status, 404);
    assert.equal((await get('/repos/alice/open', 'tok-bob')).status, 200, 'public repos are visible to everyone');
    assert.equal((await get('/api/v3/repos/alice/secret', 'tok-alice')).status, 200, 'GitHub Enterprise prefix');
  });

  it('paginates /user/repos with a Link header like GitHub', async function () {
    const p1 = await get('/user/repos?per_page=3&sort=updated&affiliation=owner,collaborator', 'tok-alice');
    assert.equal(p1.status, 200);
    assert.equal(list(p1.body).length, 3);
    assert.match(p1.link ?? '', /<[^>]*[?&]page=2[^>]*>; rel="next"/);
    assert.match(p1.link ?? '', /<[^>]*[?&]page=3[^>]*>; rel="last"/);
    const nextLink = /<([^>]+)>; rel="next"/.exec(p1.link ?? '');
    assert.ok(nextLink, 'a rel="next" link');
    const next = nextLink[1];
    assert.ok(next.startsWith(gh.url));
    const p3 = await get('/user/repos?per_page=3&page=3', 'tok-alice');
    assert.equal(list(p3.body).length, 1);
    assert.doesNotMatch(p3.link ?? '', /rel="next"/);
    const all = list((await get('/user/repos?per_page=100', 'tok-alice')).body).map((r) => field(r, 'full_name'));
    assert.deepEqual(all, ['alice/open', 'alice/secret', 'carol/r0', 'carol/r1', 'carol/r2', 'carol/r3', 'carol/r4']);
    assert.deepEqual((await get('/user/repos', 'tok-bob')).body, []);
  });

  it('resolves branches and commits, 422 for unknown refs', async function () {
    const featureSha = await git.commit('alice/secret', { 'a.txt': 'a' }, { branch: 'feature/x' });
    const branches = await get('/repos/alice/secret/branches?per_page=1', 'tok-alice');
    assert.equal(list(branches.body).length, 1);
    assert.match(branches.link ?? '', /rel="next"/);
    const branch = await get('/repos/alice/secret/branches/feature/x', 'tok-alice');
    assert.equal(field(field(branch.body, 'commit'), 'sha'), featureSha);
    assert.equal(field((await get('/repos/alice/secret/commits/main', 'tok-alice')).body, 'sha'), mainSha);
    assert.equal(field((await get(`/repos/alice/secret/commits/${mainSha}`, 'tok-alice')).body, 'sha'), mainSha);
    assert.equal(
      field((await get(`/repos/alice/secret/commits/${encodeURIComponent('feature/x')}`, 'tok-alice')).body, 'sha'),
      featureSha,
    );
    assert.equal((await get('/repos/alice/secret/commits/nope', 'tok-alice')).status, 422);
    assert.equal((await get(`/repos/alice/secret/commits/${'0'.repeat(40)}`, 'tok-alice')).status, 422);
    assert.equal((await get('/repos/alice/secret/commits/--output=x', 'tok-alice')).status, 422);
    assert.equal((await get('/repos/alice/secret/commits/main', 'tok-bob')).status, 404);
  });
});

describe('GitHubRest adapter against the stand-in', function () {
  let git: GitServerHandle;
  let gh: GitHubStandinHandle;
  let tmp: string;
  let sha: string;

  before(async function () {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'githubrest-test-'));
    await fs.writeFile(path.join(tmp, 'index.html'), 'hi\n');
    git = await startGitServer({ tokens: {} });
    gh = await startGitHubStandin({ git });
    gh.addUser('alice', 'tok-alice');
    gh.addUser('bob', 'tok-bob');
    sha = await git.addRepo('alice/secret', tmp, { private: true, branch: 'trunk' });
  });
  after(async function () {
    await closeAll([gh, git]);
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('verifies a token once per cache period, by hash, and refuses a bad one', async function () {
    for (const apiUrl of [gh.url, `${gh.url}/api/v3/`]) {
      const rest = new GitHubRest({ apiUrl, cacheMs: 60_000 });
      const before = gh.calls.filter((c) => c.path === '/user').length;
      const [a, b] = await Promise.all([rest.verifyToken('tok-alice'), rest.verifyToken('tok-alice')]);
      assert.equal(a.login, 'alice');
      assert.deepEqual(a, b);
      assert.equal((await rest.verifyToken('tok-alice')).login, 'alice');
      assert.equal(gh.calls.filter((c) => c.path === '/user').length, before + 1, 'one GET /user for three checks');
      await assert.rejects(rest.verifyToken('bad'), UnauthorizedError);
      await assert.rejects(rest.verifyToken('bad'), UnauthorizedError);
      await assert.rejects(rest.verifyToken(''), UnauthorizedError);
    }
    assert.ok(gh.calls.every((c) => !JSON.stringify(c).includes('tok-alice')));
  });

  it('reads repos as the token sees them', async function () {
    const rest = new GitHubRest({ apiUrl: gh.url, cacheMs: 0 });
    assert.deepEqual(await rest.getRepo('tok-alice', 'alice/secret'), {
      fullName: 'alice/secret',
      private: true,
      defaultBranch: 'trunk',
      cloneUrl: git.cloneUrl('alice/secret'),
    });
    await assert.rejects(rest.getRepo('tok-bob', 'alice/secret'), NotFoundError);
    await assert.rejects(rest.getRepo('tok-alice', 'alice/missing'), /repository alice\/missing not found/);
    await assert.rejects(rest.getRepo('bad', 'alice/secret'), UnauthorizedError);
    const callsBefore = gh.calls.length;
    for (const bad of ['alice', 'alice/x;rm -rf', '../x', 'a/b/c', 'alice/..', '-/$(id)']) {
      await assert.rejects(
        rest.getRepo('tok-alice', bad),
        (e: unknown) => e instanceof UserFacingError && e.status === 400,
        bad,
      );
    }
    assert.equal(gh.calls.length, callsBefore, 'invalid names never reach GitHub');
  });

  it('resolves branches, shas and slashed branch names; unknown refs are a clear 400', async function () {
    const rest = new GitHubRest({ apiUrl: gh.url, cacheMs: 0 });
    const featureSha = await git.commit('alice/secret', { 'x.txt': 'x' }, { branch: 'feature/x' });
    assert.equal(await rest.resolveRef('tok-alice', 'alice/secret', 'trunk'), sha);
    assert.equal(await rest.resolveRef('tok-alice', 'alice/secret', sha.toUpperCase()), sha);
    assert.equal(await rest.resolveRef('tok-alice', 'alice/secret', 'feature/x'), featureSha);
    await assert.rejects(rest.resolveRef('tok-alice', 'alice/secret', 'nope'), {
      message: 'unknown ref "nope" in alice/secret',
      status: 400,
    });
    await assert.rejects(rest.resolveRef('tok-alice', 'alice/secret', '0'.repeat(40)), /unknown ref/);
    await assert.rejects(rest.resolveRef('tok-alice', 'alice/secret', '--upload-pack=x'), /invalid ref/);
  });

  it('reports an unreachable GitHub as a 502 naming the URL', async function () {
    const rest = new GitHubRest({ apiUrl: 'http://127.0.0.1:1', cacheMs: 0 });
    await assert.rejects(rest.verifyToken('tok'), {
      message: 'GitHub is unreachable at http://127.0.0.1:1',
      status: 502,
    });
  });
});

describe('GitHub name validators', function () {
  it('accepts GitHub repository names and refuses anything else', function () {
    for (const ok of ['a/b', 'Octo-Cat/hello.world_1', 'x/.github', `${'a'.repeat(39)}/${'b'.repeat(100)}`])
      assert.ok(isValidRepoFullName(ok), ok);
    for (const bad of [
      '',
      'a',
      'a/',
      '/b',
      'a/b/c',
      'a/.',
      'a/..',
      'a b/c',
      'a/b;ls',
      'a/$(id)',
      `${'a'.repeat(40)}/b`,
      `a/${'b'.repeat(101)}`,
      'ä/b',
    ]) {
      assert.ok(!isValidRepoFullName(bad), bad);
    }
  });

  it('accepts refs git accepts and refuses option-like or malformed ones', function () {
    for (const ok of ['main', 'feature/x', 'v1.2.3', 'release-2024', 'a'.repeat(40), 'user@host'])
      assert.ok(isValidRef(ok), ok);
    for (const bad of [
      '',
      '-x',
      '--upload-pack=x',
      'a..b',
      'a b',
      'a~1',
      'a^',
      'a:b',
      'a?',
      'a*',
      'a[',
      'a\\b',
      '/a',
      'a/',
      'a//b',
      '.a',
      'a/.b',
      'a.lock',
      'a.',
      '@',
      'a@{1}',
      'a\x00',
      'a\nb',
      'x'.repeat(256),
    ]) {
      assert.ok(!isValidRef(bad), JSON.stringify(bad));
    }
  });
});
