import assert from 'node:assert/strict';
import { TestUserInput } from '../../src/userInput';

describe('extension: test input injection', () => {
  it('answers prompts in order, by label or pattern, and cancels with undefined', async () => {
    const ui = new TestUserInput();
    ui.push('alice/site', /^feat/, 'web', undefined);
    const items = [
      { label: 'alice/api', value: 1 },
      { label: 'alice/site', value: 2 },
    ];
    assert.equal((await ui.pick(items, { title: 'repo' }))!.value, 2);
    assert.equal(
      (await ui.pick(
        Promise.resolve([
          { label: 'main', value: 'main' },
          { label: 'feature-x', value: 'feature-x' },
        ]),
        { title: 'branch' },
      ))!.value,
      'feature-x',
    );
    assert.equal(await ui.input({ title: 'root dir' }), 'web');
    assert.equal(await ui.input({ title: 'filter' }), undefined);
    assert.deepEqual(ui.asked, ['repo', 'branch', 'root dir', 'filter']);
  });

  it('fails at once on an unexpected prompt instead of waiting for a human', async () => {
    const ui = new TestUserInput();
    await assert.rejects(
      ui.pick([{ label: 'x', value: 1 }], { title: 'Which app?' }),
      /unexpected prompt "Which app\?"/,
    );
    ui.push('nope');
    await assert.rejects(ui.pick([{ label: 'x', value: 1 }], { title: 'Which app?' }), /no item matches nope/);
    ui.push('bad name');
    await assert.rejects(
      ui.input({ title: 'Name', validateInput: (v) => (/\s/.test(v) ? 'no spaces' : undefined) }),
      /invalid: no spaces/,
    );
  });
});
