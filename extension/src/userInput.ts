import type * as vscode from 'vscode';

export interface PickItem<T> extends vscode.QuickPickItem {
  value: T;
}

/**
 * Every question the extension asks goes through this, so tests can answer them: with TestUserInput an
 * unexpected prompt fails the test at once instead of leaving a QuickPick open forever.
 */
export interface UserInput {
  pick<T>(
    items: PickItem<T>[] | Promise<PickItem<T>[]>,
    options: vscode.QuickPickOptions & { title: string },
  ): Promise<PickItem<T> | undefined>;
  input(options: vscode.InputBoxOptions & { title: string }): Promise<string | undefined>;
}

/** An answer: the label to pick (string or pattern), text to type, or `undefined` to cancel the prompt. */
export type TestAnswer = string | RegExp | undefined;

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
    if (answer === undefined) return undefined;
    const list = await items;
    const found = list.find((i) => (typeof answer === 'string' ? i.label === answer : answer.test(i.label)));
    if (!found)
      throw new Error(
        `"${options.title}": no item matches ${String(answer)}; items: ${list.map((i) => i.label).join(', ')}`,
      );
    return found;
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

  private next(title: string): TestAnswer {
    this.asked.push(title);
    if (this.answers.length === 0) throw new Error(`unexpected prompt "${title}": the test gave no answer for it`);
    return this.answers.shift();
  }
}
