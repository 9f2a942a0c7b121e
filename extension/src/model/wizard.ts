/** What a step returns when the user pressed Back. */
export const BACK = Symbol('back');
export type StepResult<S> = S | typeof BACK | undefined;

export interface StepPosition {
  step: number;
  totalSteps: number;
}

/** One question: takes the answers so far, returns them with its own added, BACK, or undefined (cancelled). */
export type Step<S> = (state: S, position: StepPosition) => Promise<StepResult<S>>;

/**
 * Runs steps in order as a multi-step input (the Azure extension's wizard pattern): each shows "step/total",
 * Back returns to the previous step with the answers it had then, Escape cancels the whole flow.
 */
export async function runSteps<S>(steps: readonly Step<S>[], initial: S): Promise<S | undefined> {
  const states: S[] = [initial];
  let i = 0;
  while (i < steps.length) {
    const step = steps[i];
    const result = await step(states[i], { step: i + 1, totalSteps: steps.length });
    if (result === undefined) return undefined;
    if (result === BACK) {
      // The first step has no Back button; a stray BACK there just asks again.
      i = Math.max(0, i - 1);
      continue;
    }
    states[i + 1] = result;
    i += 1;
  }
  return states[steps.length];
}
