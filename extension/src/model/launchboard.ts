/**
 * The Launchboard form's rules, kept apart from the DOM so they are unit-tested: env rows belong to one
 * repository (values typed for one app must never be deployed to the next), the target app is named before
 * anything is deployed, and a Deploy that cannot run says why.
 */
export interface FormScope {
  repo?: string;
  ref?: string;
  /** The repository the env rows were typed for. */
  envRepo?: string;
  envKeys?: string[];
}

/** Selecting a repository: keeps the env rows only when they were typed for that same repository. */
export function selectRepo<S extends FormScope>(
  state: S,
  repo: string,
): { state: S; clear: boolean; clearedEnv: string[] } {
  const keys = (state.envKeys ?? []).filter((k) => k.trim() !== '');
  const sameRepo = state.envRepo === undefined || state.envRepo === repo;
  const next: S = { ...state, repo: repo || undefined, ref: repo === state.repo ? state.ref : undefined };
  if (sameRepo) return { state: { ...next, envRepo: repo || state.envRepo }, clear: false, clearedEnv: [] };
  return { state: { ...next, envRepo: repo || undefined, envKeys: [] }, clear: true, clearedEnv: keys };
}

/** Why Deploy does nothing right now, or undefined when it can run. */
export function deployBlocker(state: FormScope, running: boolean): string | undefined {
  if (!state.repo) return 'Choose a repository first: Deploy needs to know what to deploy.';
  if (running) return 'A deployment is running: cancel it or wait for it to finish.';
  return undefined;
}

/** Shown beside Deploy: which app the click changes. */
export function targetText(repo: string | undefined, app: string | undefined): string {
  if (!repo) return 'No repository selected';
  return app ? `Deploys to app ${app}` : `Creates a new app for ${repo}`;
}

/** Unique accessible names per env row ("Variable 2 name"), so a screen reader tells the inputs apart. */
export function envLabels(index: number): { name: string; value: string; remove: string } {
  const n = index + 1;
  return { name: `Variable ${n} name`, value: `Variable ${n} value`, remove: `Remove variable ${n}` };
}

/** Says what a change of repository did to the env rows, for the form's one-line status. */
export function clearedEnvText(cleared: readonly string[], repo: string): string {
  if (cleared.length === 0) return '';
  return `Cleared ${cleared.length} environment variable${cleared.length === 1 ? '' : 's'} (${cleared.join(', ')}) typed for another repository; ${repo} starts with none.`;
}
