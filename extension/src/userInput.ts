import type * as vscode from 'vscode';
import { BACK, type StepPosition } from './model/wizard';

export interface PickItem<T> extends vscode.QuickPickItem {
  value: T;
}

export type PickOptions = vscode.QuickPickOptions & { title: string };

/**
 * Every question the extension asks goes through this, so tests can answer them: with TestUserInput an
 * unexpected prompt fails the test at once instead of leaving a QuickPick open forever.
 */
export interface UserInput {
  pick<T>(items: PickItem<T>[] | Promise<PickItem<T>[]>, options: PickOptions): Promise<PickItem<T> | undefined>;
  /** A pick that is one step of several: shows "step/total" and, after the first step, a Back button. */
  pickStep<T>(
    items: PickItem<T>[] | Promise<PickItem<T>[]>,
    options: PickOptions & StepPosition,
  ): Promise<PickItem<T> | typeof BACK | undefined>;
  input(options: vscode.InputBoxOptions & { title: string }): Promise<string | undefined>;
  /** A modal question before something that cannot be undone; true only when `action` was chosen. */
  confirm(message: string, action: string, detail?: string): Promise<boolean>;
}

/** An answer: the label to pick (string or pattern), text to type, BACK, or `undefined` to cancel the prompt. */
export type TestAnswer = string | RegExp | typeof BACK | undefined;

export class TestUserInput implements UserInput {
  private readonly answers: TestAnswer[] = [];
  readonly asked: string[] = [];

  push(...answers: TestAnswer[]): void {
    this.answers.push(...answers);
  }

  get remaining(): number {
    return this.answers.length;
  }

  async pick<T>(
    items: PickItem<T>[] | Promise<PickItem<T>[]>,
    options: { title: string },
  ): Promise<PickItem<T> | undefined> {
    const answer = this.next(options.title);
    if (answer === BACK) throw new Error(`"${options.title}": a single pick has no Back button`);
    return this.find(items, options.title, answer);
  }

  async pickStep<T>(
    items: PickItem<T>[] | Promise<PickItem<T>[]>,
    options: { title: string } & StepPosition,
  ): Promise<PickItem<T> | typeof BACK | undefined> {
    const title = `${options.title} (${options.step}/${options.totalSteps})`;
    const answer = this.next(title);
    if (answer === BACK) {
      if (options.step === 1) throw new Error(`"${title}": the first step has no Back button`);
      return BACK;
    }
    return this.find(items, title, answer);
  }

  async input(options: {
    title: string;
    validateInput?: vscode.InputBoxOptions['validateInput'];
  }): Promise<string | undefined> {
    const answer = this.next(options.title);
    if (answer === undefined) return undefined;
    if (typeof answer !== 'string') throw new Error(`"${options.title}": an input box needs a string answer`);
    const invalid = await options.validateInput?.(answer);
    if (invalid)
      throw new Error(
        `"${options.title}": "${answer}" is invalid: ${typeof invalid === 'string' ? invalid : invalid.message}`,
      );
    return answer;
  }

  /** Answered with the action's label to confirm, `undefined` to decline. */
  async confirm(message: string, action: string): Promise<boolean> {
    const answer = this.next(message);
    if (answer === undefined) return false;
    if (answer !== action) throw new Error(`"${message}": the only choice is "${action}", got ${String(answer)}`);
    return true;
  }

  private async find<T>(
    items: PickItem<T>[] | Promise<PickItem<T>[]>,
    title: string,
    answer: string | RegExp | undefined,
  ): Promise<PickItem<T> | undefined> {
    if (answer === undefined) return undefined;
    const list = await items;
    const found = list.find((i) => (typeof answer === 'string' ? i.label === answer : answer.test(i.label)));
    if (!found)
      throw new Error(`"${title}": no item matches ${String(answer)}; items: ${list.map((i) => i.label).join(', ')}`);
    return found;
  }

  private next(title: string): TestAnswer {
    this.asked.push(title);
    if (this.answers.length === 0) throw new Error(`unexpected prompt "${title}": the test gave no answer for it`);
    return this.answers.shift();
  }
}
