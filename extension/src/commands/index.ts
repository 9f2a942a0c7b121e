import * as vscode from 'vscode';
import { ApiError } from '@cloudsmith/client';
import { NotSignedInError } from '../auth';
import type { Services } from '../services';
import { BackendOfflineError } from './backend';
import { cancel } from './cancel';
import { deploy } from './deploy';
import { openApp } from './openApp';
import { openLaunchboard } from './openLaunchboard';
import { redeploy } from './redeploy';
import { filterRepositories, refresh } from './refresh';
import { rollback } from './rollback';
import { showAppLogs } from './showAppLogs';
import { showLogs } from './showLogs';
import { signIn } from './signIn';
import { signOut } from './signOut';
import { toggleDeployOnPush } from './toggleDeployOnPush';

type Command = (s: Services, arg?: never) => Promise<void>;

const COMMANDS: Record<string, Command> = {
  'cloudsmith.deploy': deploy,
  'cloudsmith.showLogs': showLogs,
  'cloudsmith.showAppLogs': showAppLogs,
  'cloudsmith.openApp': openApp,
  'cloudsmith.cancel': cancel,
  'cloudsmith.rollback': rollback,
  'cloudsmith.redeploy': redeploy,
  'cloudsmith.signIn': signIn,
  'cloudsmith.signOut': signOut,
  'cloudsmith.refresh': refresh,
  'cloudsmith.filterRepositories': filterRepositories,
  'cloudsmith.openLaunchboard': openLaunchboard,
  'cloudsmith.toggleDeployOnPush': toggleDeployOnPush,
};

export function registerCommands(s: Services): vscode.Disposable[] {
  return Object.entries(COMMANDS).map(([id, run]) =>
    vscode.commands.registerCommand(id, async (arg?: unknown) => {
      try {
        await run(s, arg as never);
      } catch (err) {
        report(s, id, arg, err);
      }
    }),
  );
}

/** One place turns failures into messages a user can act on; the token never appears in them. */
function report(s: Services, id: string, arg: unknown, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  s.logs.info(`${id} failed: ${message}`);
  if (err instanceof NotSignedInError) {
    void vscode.window
      .showWarningMessage(`CloudSmith: ${message}`, 'Sign In')
      .then((c) => c && vscode.commands.executeCommand('cloudsmith.signIn'));
  } else if (err instanceof BackendOfflineError || (err instanceof ApiError && err.unreachable)) {
    if (!(err instanceof BackendOfflineError)) s.connection.reportDown(message);
    // Retry runs the same command with the same argument: the user's intent survives the outage.
    void vscode.window
      .showErrorMessage(
        `CloudSmith: the backend at ${s.client.baseUrl} does not answer, so nothing was changed.`,
        { detail: message },
        'Retry',
        'Open Settings',
      )
      .then((c) => {
        if (c === 'Retry') void vscode.commands.executeCommand(id, arg);
        if (c === 'Open Settings')
          void vscode.commands.executeCommand('workbench.action.openSettings', 'cloudsmith.apiUrl');
      });
  } else {
    void vscode.window.showErrorMessage(`CloudSmith: ${message}`);
  }
}
