import * as vscode from 'vscode';
import { BACK, type StepPosition } from './model/wizard';
import type { PickItem, PickOptions, UserInput } from './userInput';

/** The real prompts. Tests swap in TestUserInput through the API that activate() returns. */
export class VsCodeUserInput implements UserInput {
  pick<T>(items: PickItem<T>[] | Promise<PickItem<T>[]>, options: PickOptions) {
    return Promise.resolve(
      vscode.window.showQuickPick(items, { ignoreFocusOut: true, matchOnDescription: true, ...options }),
    );
  }

  /** showQuickPick has no Back button: a QuickPick built by hand, busy until its items arrive. */
  pickStep<T>(
    items: PickItem<T>[] | Promise<PickItem<T>[]>,
    options: PickOptions & StepPosition,
  ): Promise<PickItem<T> | typeof BACK | undefined> {
    const qp = vscode.window.createQuickPick<PickItem<T>>();
    qp.title = options.title;
    qp.step = options.step;
    qp.totalSteps = options.totalSteps;
    qp.placeholder = options.placeHolder;
    qp.ignoreFocusOut = true;
    qp.matchOnDescription = true;
    qp.buttons = options.step > 1 ? [vscode.QuickInputButtons.Back] : [];
    qp.busy = true;
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (value: PickItem<T> | typeof BACK | undefined) => {
        if (settled) return;
        settled = true;
        resolve(value);
        qp.hide();
      };
      qp.onDidTriggerButton((b) => {
        if (b === vscode.QuickInputButtons.Back) finish(BACK);
      });
      qp.onDidAccept(() => {
        const chosen = qp.selectedItems.at(0) ?? qp.activeItems.at(0);
        if (chosen) finish(chosen);
      });
      qp.onDidHide(() => {
        finish(undefined);
        qp.dispose();
      });
      qp.show();
      Promise.resolve(items).then(
        (list) => {
          qp.items = list;
          qp.busy = false;
        },
        (err: unknown) => {
          settled = true;
          qp.hide();
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  input(options: vscode.InputBoxOptions & { title: string }) {
    return Promise.resolve(vscode.window.showInputBox({ ignoreFocusOut: true, ...options }));
  }

  async confirm(message: string, action: string, detail?: string): Promise<boolean> {
    return (await vscode.window.showWarningMessage(message, { modal: true, detail }, action)) === action;
  }
}
