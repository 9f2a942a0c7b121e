import assert from 'node:assert/strict';
import { TestUserInput } from '../../src/userInput';
import { BACK } from '../../src/model/wizard';
import { must } from './must';

describe('extension: test input injection', () => {
  it('answers prompts in order, by label or pattern, and cancels with undefined', async () => {
    const ui = new TestUserInput();
    ui.push('alice/site', /^feat/, 'web', undefined);
    const items = [
      { label: 'alice/api', value: 1 },
      { label: 'alice/site', value: 2 },
    ];
    assert.equal(must(await ui.pick(items, { title: 'repo' })).value, 2);
    assert.equal(
      must(
        await ui.pick(
          Promise.resolve([
            { label: 'main', value: 'main' },
            { label: 'feature-x', value: 'feature-x' },
          ]),
          { title: 'branch' },
        ),
      ).value,
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

describe('extension: test answers for steps and confirmations', () => {
  it('answers a step with BACK and a confirmation with its action', async () => {
    const ui = new TestUserInput();
    ui.push(BACK, 'Roll Back', undefined);
    assert.equal(await ui.pickStep([{ label: 'x', value: 1 }], { title: 'branch', step: 2, totalSteps: 2 }), BACK);
    assert.equal(await ui.confirm('Roll app back?', 'Roll Back'), true);
    assert.equal(await ui.confirm('Stop it?', 'Stop Deployment'), false);
    assert.deepEqual(ui.asked, ['branch (2/2)', 'Roll app back?', 'Stop it?']);
  });
});
