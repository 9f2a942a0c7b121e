import assert from 'node:assert/strict';
import { headCommit, staleErrorsNotice } from '../../src/model/gitHead';

const SHA_A = 'a'.repeat(40);
const SHA_B = 'b'.repeat(40);
const gitDir =
  (files: Record<string, string>) =>
  async (...parts: string[]): Promise<string | undefined> =>
    files[parts.join('/')];

describe('extension: workspace HEAD against the deployed commit', () => {
  it('reads HEAD as a detached sha, a loose ref or a packed ref', async () => {
    assert.equal(await headCommit(gitDir({ HEAD: `${SHA_A}\n` })), SHA_A);
    assert.equal(await headCommit(gitDir({ HEAD: 'ref: refs/heads/main\n', 'refs/heads/main': `${SHA_B}\n` })), SHA_B);
    const packed = `# pack-refs with: peeled fully-peeled sorted\n${SHA_A} refs/heads/feature\n${SHA_B} refs/heads/main\n`;
    assert.equal(await headCommit(gitDir({ HEAD: 'ref: refs/heads/main', 'packed-refs': packed })), SHA_B);
    assert.equal(await headCommit(gitDir({ HEAD: 'ref: refs/heads/gone' })), undefined);
    assert.equal(await headCommit(gitDir({})), undefined);
  });

  it('gives a notice only when the workspace is at another commit than the failed build', () => {
    assert.equal(
      staleErrorsNotice(SHA_A, SHA_B),
      'CloudSmith: the build errors are from commit aaaaaaa; your workspace is at bbbbbbb, so lines may have moved.',
    );
    assert.equal(staleErrorsNotice(SHA_A, SHA_A), undefined);
    assert.equal(staleErrorsNotice(null, SHA_B), undefined, 'no commit recorded: nothing to compare');
    assert.equal(staleErrorsNotice(SHA_A, undefined), undefined, 'no readable HEAD: nothing to say');
  });
});
