import assert from 'node:assert/strict';
import { deployBody } from '../../src/api/schemas';

describe('deploy request: a pinned commit', function () {
  it('takes a full commit sha beside the branch ref (Deploy on Push), and refuses anything else', function () {
    const sha = 'a'.repeat(40);
    assert.deepEqual(deployBody.parse({ repo: 'alice/site', ref: 'main', commitSha: sha }), {
      repo: 'alice/site',
      ref: 'main',
      commitSha: sha,
    });
    for (const bad of ['abc1234', 'A'.repeat(40), `${sha};rm -rf /`, 42])
      assert.equal(deployBody.safeParse({ repo: 'alice/site', commitSha: bad }).success, false, String(bad));
  });
});
