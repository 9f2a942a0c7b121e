import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startGitServer, type GitServerHandle } from './gitServer';

function git(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'git',
      args,
      { cwd, env: { PATH: process.env.PATH, HOME: cwd, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' } },
      (err, stdout, stderr) => {
        resolve({ code: err ? 1 : 0, stdout, stderr });
      },
    );
  });
}

const authHeader = (token: string): string =>
  `http.extraHeader=Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;

describe('test helper: git smart-HTTP server', function () {
  let server: GitServerHandle;
  let tmp: string;
  let sha1: string;

  before(async function () {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'gitserver-test-'));
    const fixture = path.join(tmp, 'fixture');
    await fs.mkdir(path.join(fixture, 'node_modules', 'junk'), { recursive: true });
    await fs.writeFile(path.join(fixture, 'index.html'), '<h1>hi</h1>\n');
    await fs.writeFile(path.join(fixture, 'node_modules', 'junk', 'x.js'), 'x');
    server = await startGitServer({ tokens: { 'tok-alice': ['alice/*'], 'tok-bob': [] } });
    sha1 = await server.addRepo('alice/site', fixture, { private: true });
  });
  after(async function () {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the hook that sets it failed
    await server?.close();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('clones a private repo with the token in an extra header, and records no token in any URL', async function () {
    const dest = path.join(tmp, 'clone-ok');
    const r = await git(['-c', authHeader('tok-alice'), 'clone', '-q', server.cloneUrl('alice/site'), dest], tmp);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await fs.readFile(path.join(dest, 'index.html'), 'utf8'), '<h1>hi</h1>\n');
    await assert.rejects(fs.stat(path.join(dest, 'node_modules')), 'node_modules is never committed');
    assert.ok(server.requests.some((q) => q.authorized));
    assert.ok(server.requests.every((q) => !q.tokenInUrl && !q.url.includes('tok-alice')));
  });

  it('refuses a clone without credentials (401) and a token without access (404)', async function () {
    const none = await git(['clone', '-q', server.cloneUrl('alice/site'), path.join(tmp, 'clone-none')], tmp);
    assert.notEqual(none.code, 0);
    const bob = await git(
      ['-c', authHeader('tok-bob'), 'clone', '-q', server.cloneUrl('alice/site'), path.join(tmp, 'clone-bob')],
      tmp,
    );
    assert.notEqual(bob.code, 0);
    const res = await fetch(`${server.cloneUrl('alice/site')}/info/refs?service=git-upload-pack`);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Basic realm="git"');
  });

  it('serves a shallow protocol-v2 fetch of an exact older sha after new commits and branches', async function () {
    const sha2 = await server.commit('alice/site', { 'about.html': 'about\n' }, { message: 'add about' });
    assert.notEqual(sha2, sha1);
    const sha3 = await server.commit('alice/site', { 'f.txt': 'feature\n' }, { branch: 'feature/x' });
    assert.equal(await server.createBranch('alice/site', 'release', sha2), sha2);
    const dest = path.join(tmp, 'shallow');
    await fs.mkdir(dest);
    for (const args of [
      ['init', '-q'],
      [
        '-c',
        'protocol.version=2',
        '-c',
        authHeader('tok-alice'),
        'fetch',
        '-q',
        '--depth',
        '1',
        server.cloneUrl('alice/site'),
        sha1,
      ],
      ['checkout', '-q', 'FETCH_HEAD'],
    ]) {
      const r = await git(args, dest);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    }
    assert.equal((await git(['rev-parse', 'HEAD'], dest)).stdout.trim(), sha1);
    await assert.rejects(fs.stat(path.join(dest, 'about.html')));
    const refs = await server.gitIn('alice/site', ['for-each-ref', '--format=%(refname) %(objectname)']);
    assert.match(refs, new RegExp(`refs/heads/feature/x ${sha3}`));
    assert.match(refs, new RegExp(`refs/heads/release ${sha2}`));
  });

  it('takes a push only from a token given allowPush for that repo', async function () {
    const dest = path.join(tmp, 'clone-push');
    assert.equal(
      (await git(['-c', authHeader('tok-alice'), 'clone', '-q', server.cloneUrl('alice/site'), dest], tmp)).code,
      0,
    );
    await fs.writeFile(path.join(dest, 'pushed.txt'), 'pushed\n');
    const id = ['-c', 'user.name=t', '-c', 'user.email=t@t'];
    assert.equal((await git(['add', 'pushed.txt'], dest)).code, 0);
    assert.equal((await git([...id, 'commit', '-q', '-m', 'push me'], dest)).code, 0);
    const push = () => git(['-c', authHeader('tok-alice'), 'push', '-q', 'origin', 'HEAD:main'], dest);
    const refused = await push();
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /403/);
    server.allowPush('tok-alice', 'alice/site');
    const pushed = await push();
    assert.equal(pushed.code, 0, pushed.stderr);
    const head = (await git(['rev-parse', 'HEAD'], dest)).stdout.trim();
    assert.equal((await server.gitIn('alice/site', ['rev-parse', 'refs/heads/main'])).trim(), head);
  });
});
