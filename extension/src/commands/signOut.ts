import * as vscode from 'vscode';
import type { Services } from '../services';

export async function signOut(s: Services): Promise<void> {
  const account = s.auth.account;
  await s.auth.signOut();
  s.logs.info(`Signed out${account ? ` (${account})` : ''}`);
  void vscode.window.showInformationMessage(
    "CloudSmith: signed out. The GitHub account stays in VS Code's Accounts menu.",
  );
}
