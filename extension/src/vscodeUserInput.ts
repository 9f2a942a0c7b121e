import * as vscode from 'vscode';
import type { PickItem, UserInput } from './userInput';

/** The real prompts. Tests swap in TestUserInput through the API that activate() returns. */
export class VsCodeUserInput implements UserInput {
  pick<T>(items: PickItem<T>[] | Promise<PickItem<T>[]>, options: vscode.QuickPickOptions & { title: string }) {
    return Promise.resolve(
      vscode.window.showQuickPick(items, { ignoreFocusOut: true, matchOnDescription: true, ...options }),
    );
  }

  input(options: vscode.InputBoxOptions & { title: string }) {
    return Promise.resolve(vscode.window.showInputBox({ ignoreFocusOut: true, ...options }));
  }
}
