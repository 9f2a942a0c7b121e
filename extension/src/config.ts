import * as vscode from 'vscode';

export const DEFAULT_API_URL = 'http://127.0.0.1:8080';
export const DEFAULT_GITHUB_API_URL = 'https://api.github.com';

/** Environment variables win over settings so headless runs (CI, tests, remote hosts) need no settings file. */
export function apiUrl(): string {
  return trim(
    process.env.CLOUDSMITH_API_URL ||
      vscode.workspace.getConfiguration('cloudsmith').get<string>('apiUrl') ||
      DEFAULT_API_URL,
  );
}

export function githubApiUrl(): string {
  return trim(
    process.env.GITHUB_API_URL ||
      vscode.workspace.getConfiguration('cloudsmith').get<string>('githubApiUrl') ||
      DEFAULT_GITHUB_API_URL,
  );
}

function trim(url: string): string {
  return url.trim().replace(/\/+$/, '');
}
