import * as vscode from 'vscode';
import type { CloudSmithClient, DeploymentView } from '@cloudsmith/client';
import { parseBuildErrors, workspacePathOf } from './model/buildErrors';
import { headCommit, staleErrorsNotice } from './model/gitHead';
import { gitFiles, workspaceRepo } from './workspace';

/** Enough of a failed build's log to hold its errors; a runaway log must not stall the editor. */
const MAX_LINES = 20_000;

/**
 * Puts a failed deployment's build errors on the workspace's files (Problems panel, source "CloudSmith") when the
 * workspace is the deployed repository, and clears them when that repository next deploys successfully.
 */
export class BuildDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('CloudSmith');

  constructor(
    private readonly client: CloudSmithClient,
    private readonly githubApiUrl: () => string,
  ) {}

  /** Called for every deployment that reached a final state. */
  async settle(deployment: DeploymentView): Promise<void> {
    if (deployment.status !== 'failed' && deployment.status !== 'live') return;
    const folder = vscode.workspace.workspaceFolders?.[0];
    const repo = await workspaceRepo(this.githubApiUrl());
    if (!folder || repo?.repo.toLowerCase() !== deployment.repo.toLowerCase()) return;
    if (deployment.status === 'live') {
      this.collection.clear();
      return;
    }
    const lines = (await this.client.logs(deployment.id)).slice(0, MAX_LINES).map((l) => l.text);
    const errors = parseBuildErrors(lines);
    const files = new Map<string, boolean>();
    const exists = (p: string) => {
      if (!files.has(p)) files.set(p, false);
      return files.get(p) ?? false;
    };
    // The parser asks about candidate paths synchronously; stat every candidate first, then map.
    const candidates = errors.flatMap((e) => candidatePaths(e.file, deployment.overrides?.rootDir ?? ''));
    await Promise.all(
      [...new Set(candidates)].map(async (p) => {
        try {
          await vscode.workspace.fs.stat(vscode.Uri.joinPath(folder.uri, p));
          files.set(p, true);
        } catch {
          files.set(p, false);
        }
      }),
    );
    const byFile = new Map<string, vscode.Diagnostic[]>();
    for (const e of errors) {
      const rel = workspacePathOf(e.file, deployment.overrides?.rootDir ?? '', exists);
      if (!rel) continue;
      const at = new vscode.Position(Math.max(0, e.line - 1), Math.max(0, e.column - 1));
      const diagnostic = new vscode.Diagnostic(
        new vscode.Range(at, at.translate(0, 1)),
        e.message,
        e.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Error,
      );
      diagnostic.source = 'CloudSmith';
      if (e.code) diagnostic.code = e.code;
      byFile.set(rel, [...(byFile.get(rel) ?? []), diagnostic]);
    }
    this.collection.clear();
    for (const [rel, diagnostics] of byFile) this.collection.set(vscode.Uri.joinPath(folder.uri, rel), diagnostics);
    const notice =
      byFile.size > 0 ? staleErrorsNotice(deployment.commitSha, await headCommit(gitFiles(folder.uri))) : undefined;
    if (notice) void vscode.window.showInformationMessage(notice);
  }

  dispose(): void {
    this.collection.dispose();
  }
}

/** Every workspace path workspacePathOf may ask about for one reported file. */
function candidatePaths(reported: string, rootDir: string): string[] {
  const asked: string[] = [];
  workspacePathOf(reported, rootDir, (p) => {
    asked.push(p);
    return false;
  });
  return asked;
}
