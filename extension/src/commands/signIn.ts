import * as vscode from 'vscode';
import type { Services } from '../services';

export async function signIn(s: Services): Promise<void> {
  const session = await s.auth.signIn();
  s.logs.info(`Signed in to GitHub as ${session.account.label}`);
  void vscode.window.showInformationMessage(`CloudSmith: signed in as ${session.account.label}`);
}
