import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectPush, lastUpdate, upstreamReflogPath, type GitSnapshot } from '../../src/model/pushDetection';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const at = (branch: string | undefined, head: string, upstream?: string, behind = 0): GitSnapshot => ({
  branch,
  head,
  upstream: upstream ? { remote: 'origin', name: branch ?? 'main', commit: upstream } : undefined,
  ahead: 0,
  behind,
});

describe('extension: push detection from Git state transitions', () => {
  it('a push moves the upstream to HEAD: detected, with the exact commit', () => {
    assert.deepEqual(detectPush(at('main', B, A), at('main', B, B), 'main'), {
      pushed: true,
      branch: 'main',
      commit: B,
      forced: false,
    });
    // The reflog agreeing is the same verdict.
    assert.equal(detectPush(at('main', B, A), at('main', B, B), 'main', { by: 'push', commit: B }).pushed, true);
  });

  it('commit and push between two status runs: detected when the reflog says push, not otherwise (a pull looks the same)', () => {
    assert.equal(detectPush(at('main', A, A), at('main', B, B), 'main', { by: 'push', commit: B }).pushed, true);
    assert.equal(detectPush(at('main', A, A), at('main', B, B), 'main').pushed, false);
    assert.equal(detectPush(at('main', A, A), at('main', B, B), 'main', { by: 'fetch', commit: B }).pushed, false);
  });

  it('fetched only: the upstream moves past HEAD, or a fetch lands on HEAD', () => {
    const fetched = detectPush(at('main', A, A), at('main', A, B, 1), 'main');
    assert.deepEqual(fetched, { pushed: false, reason: 'the upstream moved, but not to HEAD (a fetch)' });
    const landed = detectPush(at('main', B, A), at('main', B, B), 'main', { by: 'fetch', commit: B });
    assert.equal(landed.pushed, false);
  });

  it('another branch, a checkout, a detached HEAD, no upstream, nothing moved: no push', () => {
    assert.match(reason(detectPush(at('feature', B, A), at('feature', B, B), 'main')), /on feature, not main/);
    assert.match(reason(detectPush(at('feature', B, B), at('main', B, B), 'main')), /checked out main/);
    assert.match(reason(detectPush(at('main', B, A), at(undefined, B), 'main')), /detached HEAD/);
    assert.match(reason(detectPush(at('main', B), at('main', B), 'main')), /no upstream/);
    assert.match(reason(detectPush(at('main', B, B), at('main', B, B), 'main')), /did not move/);
    assert.match(reason(detectPush(undefined, at('main', B, B), 'main')), /first state/);
  });

  it('a force push (HEAD had diverged: behind before) is a push, marked forced', () => {
    const verdict = detectPush(at('main', C, B, 1), at('main', C, C), 'main', { by: 'push', commit: C });
    assert.deepEqual(verdict, { pushed: true, branch: 'main', commit: C, forced: true });
  });

  it('a reflog entry about another commit is no evidence: the state decides', () => {
    assert.equal(detectPush(at('main', B, A), at('main', B, B), 'main', { by: 'fetch', commit: A }).pushed, true);
  });

  it('reads the last reflog entry; the path stays under refs/remotes', () => {
    const log = `${A} ${B} Al <a@x> 1700000000 +0000\tfetch: fast-forward\n${B} ${C} Al <a@x> 1700000001 +0000\tupdate by push\n`;
    assert.deepEqual(lastUpdate(log), { by: 'push', commit: C });
    assert.deepEqual(lastUpdate(`${A} ${B} Al <a@x> 1 +0000\tpull: fast-forward\n`), { by: 'fetch', commit: B });
    assert.deepEqual(lastUpdate(''), { by: 'unknown' });
    assert.equal(upstreamReflogPath({ remote: 'origin', name: 'main' }), 'logs/refs/remotes/origin/main');
    assert.equal(upstreamReflogPath({ remote: '.', name: 'main' }), undefined);
    assert.equal(upstreamReflogPath({ remote: 'origin', name: '../../config' }), undefined);
  });

  it('git itself: push, fetch and pull leave the reflog entries the detector reads', function () {
    this.timeout(60_000);
    const dir = mkdtempSync(join(tmpdir(), 'cloudsmith-push-'));
    const env = {
      ...process.env,
      HOME: dir,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: join(dir, 'gitconfig'),
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@t',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@t',
    };
    const git = (cwd: string, ...args: string[]) =>
      execFileSync('git', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    const reflog = (cwd: string) =>
      lastUpdate(readFileSync(join(cwd, '.git', 'logs/refs/remotes/origin/main'), 'utf8'));
    try {
      git(dir, 'init', '-q', '--bare', '-b', 'main', 'origin.git');
      git(dir, 'clone', '-q', 'origin.git', 'mine');
      git(dir, 'clone', '-q', 'origin.git', 'theirs');
      const mine = join(dir, 'mine');
      const theirs = join(dir, 'theirs');
      git(mine, 'commit', '-q', '--allow-empty', '-m', 'one');
      git(mine, 'push', '-q', 'origin', 'main');
      git(mine, 'branch', '-q', '--set-upstream-to', 'origin/main');
      assert.deepEqual(reflog(mine), { by: 'push', commit: git(mine, 'rev-parse', 'HEAD') });

      git(theirs, 'pull', '-q', 'origin', 'main');
      writeFileSync(join(theirs, 'f'), 'x');
      git(theirs, 'add', 'f');
      git(theirs, 'commit', '-q', '-m', 'two');
      git(theirs, 'push', '-q', 'origin', 'main');
      git(mine, 'fetch', '-q');
      assert.deepEqual(reflog(mine), { by: 'fetch', commit: git(theirs, 'rev-parse', 'HEAD') });
      git(mine, 'pull', '-q', '--ff-only');
      assert.equal(reflog(mine).by, 'fetch');

      git(mine, 'commit', '-q', '--amend', '--allow-empty', '-m', 'two, amended');
      git(mine, 'push', '-q', '--force', 'origin', 'main');
      assert.deepEqual(reflog(mine), { by: 'push', commit: git(mine, 'rev-parse', 'HEAD') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function reason(verdict: ReturnType<typeof detectPush>): string {
  return verdict.pushed ? 'pushed' : verdict.reason;
}
