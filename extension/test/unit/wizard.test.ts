import assert from 'node:assert/strict';
import { BACK, runSteps, type Step } from '../../src/model/wizard';
import { TestUserInput } from '../../src/userInput';
import { must } from './must';

interface Answers {
  repo?: string;
  ref?: string;
}

/** The palette Deploy's two steps, answered by TestUserInput as a user would click. */
function steps(ui: TestUserInput): Step<Answers>[] {
  return [
    async (_s, pos) => {
      const r = await ui.pickStep(
        [
          { label: 'alice/site', value: 'alice/site' },
          { label: 'alice/api', value: 'alice/api' },
        ],
        { title: 'repository', ...pos },
      );
      return r === undefined || r === BACK ? r : { repo: r.value };
    },
    async (s, pos) => {
      const r = await ui.pickStep([{ label: 'main', value: 'main' }], { title: `${must(s.repo)}: branch`, ...pos });
      return r === undefined || r === BACK ? r : { ...s, ref: r.value };
    },
  ];
}

describe('extension: multi-step input (repository → branch)', () => {
  it('numbers the steps and goes Back to the repository with the answers it had', async () => {
    const ui = new TestUserInput();
    ui.push('alice/site', BACK, 'alice/api', 'main');
    assert.deepEqual(await runSteps(steps(ui), {}), { repo: 'alice/api', ref: 'main' });
    assert.deepEqual(ui.asked, [
      'repository (1/2)',
      'alice/site: branch (2/2)',
      'repository (1/2)',
      'alice/api: branch (2/2)',
    ]);
  });

  it('cancels the whole flow on Escape at any step', async () => {
    const ui = new TestUserInput();
    ui.push('alice/site', undefined);
    assert.equal(await runSteps(steps(ui), {}), undefined);
  });

  it('has no Back on the first step', async () => {
    const ui = new TestUserInput();
    ui.push(BACK);
    await assert.rejects(runSteps(steps(ui), {}), /first step has no Back button/);
  });
});
