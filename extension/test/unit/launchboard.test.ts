import assert from 'node:assert/strict';
import { must } from './must';
import {
  clearedEnvText,
  deployBlocker,
  envLabels,
  selectRepo,
  targetText,
  type FormScope,
} from '../../src/model/launchboard';

describe('extension: the Launchboard form scoped to one repository', () => {
  it('clears env rows typed for another repository when the repository changes', () => {
    const typed = { repo: 'alice/site', envRepo: 'alice/site', envKeys: ['GREETING'], ref: 'main' };
    const moved = selectRepo(typed, 'alice/api');
    assert.equal(moved.clear, true);
    assert.deepEqual(moved.clearedEnv, ['GREETING']);
    assert.deepEqual(moved.state.envKeys, []);
    assert.equal(moved.state.envRepo, 'alice/api');
    assert.equal(moved.state.ref, undefined);
    assert.match(
      clearedEnvText(moved.clearedEnv, 'alice/api'),
      /Cleared 1 environment variable \(GREETING\).*alice\/api/,
    );
  });

  it('keeps them when the same repository is selected again, or when they were typed before any', () => {
    const typed = { repo: 'alice/site', envRepo: 'alice/site', envKeys: ['GREETING'], ref: 'dev' };
    const same = selectRepo(typed, 'alice/site');
    assert.equal(same.clear, false);
    assert.deepEqual(same.state.envKeys, ['GREETING']);
    assert.equal(same.state.ref, 'dev');
    const first = selectRepo<FormScope>({ envKeys: ['A'] }, 'alice/site');
    assert.equal(first.clear, false);
    assert.equal(first.state.envRepo, 'alice/site');
  });

  it('says why Deploy does nothing, and names the target app', () => {
    assert.match(must(deployBlocker({}, false)), /Choose a repository first/);
    assert.match(must(deployBlocker({ repo: 'alice/site' }, true)), /running/);
    assert.equal(deployBlocker({ repo: 'alice/site' }, false), undefined);
    assert.equal(targetText('alice/site', 'site-alice'), 'Deploys to app site-alice');
    assert.equal(targetText('alice/api', undefined), 'Creates a new app for alice/api');
    assert.equal(targetText(undefined, undefined), 'No repository selected');
  });

  it('gives each env input its own accessible name', () => {
    assert.deepEqual(envLabels(1), { name: 'Variable 2 name', value: 'Variable 2 value', remove: 'Remove variable 2' });
  });
});
