import * as vscode from 'vscode';

/**
 * The part of the built-in Git extension's API (`vscode.git`, getAPI(1); microsoft/vscode
 * extensions/git/src/api/git.d.ts) that Deploy on Push reads. Declared here rather than vendored whole.
 */
export interface GitBranch {
  readonly name?: string;
  readonly commit?: string;
  readonly upstream?: { readonly remote: string; readonly name: string; readonly commit?: string };
  readonly ahead?: number;
  readonly behind?: number;
}

export interface GitRepository {
  readonly rootUri: vscode.Uri;
  readonly state: { readonly HEAD: GitBranch | undefined; readonly onDidChange: vscode.Event<void> };
}

export interface GitApi {
  readonly state: 'uninitialized' | 'initialized';
  readonly onDidChangeState: vscode.Event<'uninitialized' | 'initialized'>;
  readonly repositories: GitRepository[];
  readonly onDidOpenRepository: vscode.Event<GitRepository>;
  getRepository(uri: vscode.Uri): GitRepository | null;
}

interface GitExtension {
  readonly enabled: boolean;
  getAPI(version: 1): GitApi;
}

/** The Git extension's API, activating it if needed; undefined when it is missing or disabled (`git.enabled`). */
export async function gitApi(): Promise<GitApi | undefined> {
  const extension = vscode.extensions.getExtension<GitExtension>('vscode.git');
  if (!extension) return undefined;
  const exports = extension.isActive ? extension.exports : await extension.activate();
  return exports.enabled ? exports.getAPI(1) : undefined;
}

/** The repository at `folder`, waiting (up to `timeoutMs`) for the Git extension to open it. */
export async function repositoryAt(
  api: GitApi,
  folder: vscode.Uri,
  timeoutMs = 60_000,
): Promise<GitRepository | undefined> {
  const found = api.getRepository(folder);
  if (found) return found;
  return new Promise((resolve) => {
    const done = (repo: GitRepository | undefined) => {
      clearTimeout(timer);
      opened.dispose();
      resolve(repo);
    };
    const timer = setTimeout(() => {
      done(api.getRepository(folder) ?? undefined);
    }, timeoutMs);
    const opened = api.onDidOpenRepository(() => {
      const repo = api.getRepository(folder);
      if (repo) done(repo);
    });
  });
}
