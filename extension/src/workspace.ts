import * as vscode from 'vscode';
import type { GitFileReader } from './model/gitHead';
import { originUrl, repoFromRemote, webHostFor } from './model/gitRemote';

export interface WorkspaceRepo {
  repo: string;
  /** The checked-out branch, when HEAD is on one. */
  branch?: string;
}

/**
 * The open workspace's GitHub repository, from .git/config and .git/HEAD: reading two small files keeps
 * activation fast and works without the built-in git extension.
 */
export async function workspaceRepo(githubApiUrl: string): Promise<WorkspaceRepo | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) return undefined;
  const read = gitFiles(folder.uri);
  const config = await read('config');
  const remote = config ? originUrl(config) : undefined;
  const repo = remote ? repoFromRemote(remote, webHostFor(githubApiUrl)) : undefined;
  if (!repo) return undefined;
  const head = (await read('HEAD'))?.trim();
  const branch = head?.startsWith('ref: refs/heads/') ? head.slice('ref: refs/heads/'.length) : undefined;
  return { repo, branch };
}

/** Reads files of the .git directory under `root` (undefined for a missing one). */
export function gitFiles(root: vscode.Uri): GitFileReader {
  return async (...parts) => {
    try {
      return new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(root, '.git', ...parts)));
    } catch {
      return undefined;
    }
  };
}
