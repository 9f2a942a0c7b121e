import type * as vscode from 'vscode';
import type { CloudSmithClient } from '@cloudsmith/client';
import type { AppLogs } from './appLogs';
import type { Auth } from './auth';
import type { ConnectionMonitor } from './model/connection';
import type { Deployments } from './deployments';
import type { DeployOnPush } from './deployOnPush';
import type { GitHub } from './github';
import type { LogChannel } from './logs';
import type { UserInput } from './userInput';
import type { Launchboard } from './views/launchboard';
import type { RepositoriesTree } from './views/repositoriesTree';

/** What commands work with; built once in activate(). */
export interface Services {
  context: vscode.ExtensionContext;
  auth: Auth;
  client: CloudSmithClient;
  github: GitHub;
  ui: UserInput;
  logs: LogChannel;
  appLogs: AppLogs;
  deployments: Deployments;
  push: DeployOnPush;
  tree: RepositoriesTree;
  launchboard: Launchboard;
  connection: ConnectionMonitor;
  githubApiUrl: () => string;
}
