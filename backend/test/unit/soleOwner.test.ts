import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { TokenGate } from '../../src/api/auth';
import { SoleOwner } from '../../src/api/soleOwner';
import { UserFacingError } from '../../src/domain/errors';
import type { Authspire } from '../../src/services/authspire/authspire';
import type { IncomingMessage } from 'node:http';

/** Tokens name their user here; the real Authspire asks GitHub's /user. */
const authspire = {
  authenticate: (token: string) => Promise.resolve({ id: token.replace('tok-', 'id-'), login: token }),
} as unknown as Authspire;

function request(token: string): IncomingMessage {
  const fake = { headers: { authorization: `Bearer ${token}` }, socket: { remoteAddress: '127.0.0.1' } };
  return fake as unknown as IncomingMessage;
}

describe('an unsandboxed platform admits only its first user', () => {
  it('the first user owns it, others get a 403 that says why, and a restart keeps the owner', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'cs-owner-')), 'owner');
    const gate = new TokenGate(authspire, { soleOwner: new SoleOwner(file) });
    assert.equal((await gate.authenticate(request('tok-alice'))).user.id, 'id-alice');
    assert.equal((await gate.authenticate(request('tok-alice'))).user.id, 'id-alice');
    await assert.rejects(gate.authenticate(request('tok-bob')), (err: unknown) => {
      assert.ok(err instanceof UserFacingError);
      assert.equal(err.status, 403);
      assert.match(err.message, /unsandboxed.*CLOUDSMITH_ALLOW_UNSANDBOXED=1/s);
      return true;
    });
    assert.equal(readFileSync(file, 'utf8').trim(), 'id-alice');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const restarted = new TokenGate(authspire, { soleOwner: new SoleOwner(file) });
    await assert.rejects(restarted.authenticate(request('tok-bob')), /only its first user/);
    assert.equal((await restarted.authenticate(request('tok-alice'))).user.id, 'id-alice');
  });

  it('without the policy (sandboxed, or allowed) every user is admitted', async () => {
    const gate = new TokenGate(authspire);
    assert.equal((await gate.authenticate(request('tok-alice'))).user.id, 'id-alice');
    assert.equal((await gate.authenticate(request('tok-bob'))).user.id, 'id-bob');
  });
});
