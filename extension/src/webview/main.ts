/// <reference lib="dom" />
// Long on purpose: the Launchboard page is one DOM with one state; what it decides (env rows per repo, the
// timeline, why Deploy is blocked) lives in the unit-tested ../model modules, this file only renders and wires events.
import './launchboard.css';
import type { DeploymentView } from '@cloudsmith/client';
import { clearedEnvText, deployBlocker, envLabels, selectRepo as scopeToRepo, targetText } from '../model/launchboard';
import { inProgress } from '../model/status';
import { STAGES, statusLine, timeline } from '../model/timeline';
import { renderHealth } from './healthCharts';
import type { FromWebview, LaunchboardState, ToWebview } from './messages';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
  getState(): LaunchboardState | undefined;
  setState(state: LaunchboardState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const MAX_LINES = 12;
let state: LaunchboardState = vscode.getState() ?? {};
let defaultBranches: Record<string, string> = {};
let appNames: Record<string, string | undefined> = {};
/** Set by a Deploy click: once the new deployment shows its Cancel button, focus goes there. */
let focusCancel = false;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

const save = () => {
  vscode.setState(state);
};
function $(id: string): HTMLElement {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the Launchboard has no #${id}`);
  return node;
}
const selectEl = (id: string) => $(id) as HTMLSelectElement;
const buttonEl = (id: string) => $(id) as HTMLButtonElement;

/** The page's only live region: one short sentence, so a screen reader is not read every log line. */
function announce(text: string): void {
  $('status').textContent = text;
}

function field(id: keyof LaunchboardState, label: string, placeholder: string): HTMLElement {
  const input = el('input', { id, type: 'text', placeholder, spellcheck: 'false' });
  input.value = (state[id] as string | undefined) ?? '';
  input.addEventListener('input', () => {
    (state as Record<string, unknown>)[id] = input.value;
    save();
  });
  return el('label', { for: id }, el('span', {}, label), input);
}

function envRow(key = '', value = ''): HTMLElement {
  const k = el('input', { type: 'text', class: 'env-key', placeholder: 'NAME', spellcheck: 'false' });
  // Values are secrets: masked while typed, never echoed back by the extension.
  const v = el('input', { type: 'password', class: 'env-value', placeholder: 'value', autocomplete: 'off' });
  k.value = key;
  v.value = value;
  const remove = el('button', { class: 'secondary icon env-remove' }, '✕');
  const row = el('div', { class: 'env-row' }, k, v, remove);
  remove.addEventListener('click', () => {
    row.remove();
    saveEnv();
    labelEnvRows();
    $('add-env').focus();
  });
  k.addEventListener('input', saveEnv);
  v.addEventListener('input', saveEnv);
  return row;
}

/** Each input gets its own accessible name ("Variable 2 value"), renumbered when rows come and go. */
function labelEnvRows(): void {
  document.querySelectorAll<HTMLElement>('.env-row').forEach((row, i) => {
    const labels = envLabels(i);
    row.querySelector('.env-key')?.setAttribute('aria-label', labels.name);
    row.querySelector('.env-value')?.setAttribute('aria-label', labels.value);
    row.querySelector('.env-remove')?.setAttribute('aria-label', labels.remove);
    row.querySelector('.env-remove')?.setAttribute('title', labels.remove);
  });
}

/** Env values are read from the form when deploying, never put in the persisted state (which VS Code writes to disk). */
function envRows(): Array<{ key: string; value: string }> {
  return [...document.querySelectorAll<HTMLElement>('.env-row')].map((row) => ({
    key: (row.querySelector('.env-key') as HTMLInputElement).value,
    value: (row.querySelector('.env-value') as HTMLInputElement).value,
  }));
}

function saveEnv(): void {
  state.envKeys = envRows().map((r) => r.key);
  state.envRepo ??= state.repo;
  save();
}

function render(): void {
  const app = $('app');
  app.replaceChildren(
    el('h1', {}, 'CloudSmith Launchboard'),
    el(
      'section',
      { class: 'form', 'aria-label': 'Deploy settings' },
      el('label', { for: 'repo' }, el('span', {}, 'Repository'), el('select', { id: 'repo' })),
      el('label', { for: 'branch' }, el('span', {}, 'Branch'), el('select', { id: 'branch' })),
      field('rootDir', 'Root directory', '(repository root)'),
      el(
        'details',
        { id: 'advanced' },
        el('summary', {}, 'Build settings'),
        field('installCommand', 'Install command', 'detected (npm ci / npm install)'),
        field('buildCommand', 'Build command', 'detected (npm run build)'),
        field('startCommand', 'Start command', 'detected (npm start / static)'),
      ),
      el(
        'div',
        { class: 'env', role: 'group', 'aria-labelledby': 'env-title' },
        el(
          'div',
          { class: 'env-head' },
          el('span', { id: 'env-title' }, 'Environment variables'),
          el('button', { id: 'add-env', class: 'secondary', 'aria-label': 'Add environment variable' }, '+ Add'),
        ),
        el('div', { id: 'env-rows' }),
        el('p', { id: 'env-existing', class: 'hint' }),
      ),
      el(
        'div',
        { class: 'actions' },
        el('button', { id: 'deploy', 'aria-describedby': 'target' }, 'Deploy'),
        el('button', { id: 'cancel', class: 'secondary', hidden: '' }, 'Cancel'),
        el('span', { id: 'target', class: 'hint' }),
      ),
      el('p', { id: 'error', class: 'error', role: 'alert' }),
    ),
    el(
      'section',
      { class: 'progress', 'aria-label': 'Deployment progress' },
      el('p', { id: 'status', role: 'status', 'aria-live': 'polite', class: 'status-line' }),
      el('ol', { id: 'timeline', 'aria-label': 'Stages' }, ...STAGES.map((s) => el('li', { 'data-stage': s }))),
      el('p', { id: 'result' }),
      el('pre', { id: 'log', 'aria-label': 'Last log lines' }),
    ),
    el('section', { id: 'health', class: 'health', 'aria-label': 'App health, last hour', hidden: '' }),
  );
  for (const key of state.envKeys ?? []) $('env-rows').append(envRow(key));
  labelEnvRows();
  $('add-env').addEventListener('click', () => {
    const row = envRow();
    $('env-rows').append(row);
    labelEnvRows();
    saveEnv();
    row.querySelector<HTMLInputElement>('.env-key')?.focus();
  });
  selectEl('repo').addEventListener('change', (e) => {
    selectRepo((e.target as HTMLSelectElement).value);
  });
  selectEl('branch').addEventListener('change', (e) => {
    state.ref = (e.target as HTMLSelectElement).value;
    save();
  });
  $('deploy').addEventListener('click', deploy);
  $('cancel').addEventListener('click', () => {
    if (state.deployment) vscode.postMessage({ type: 'cancel', deploymentId: state.deployment.id });
  });
  renderTarget();
  renderDeployment();
}

function renderTarget(): void {
  $('target').textContent = targetText(state.repo, state.repo ? appNames[state.repo] : undefined);
}

function selectRepo(repo: string): void {
  const { state: next, clear, clearedEnv } = scopeToRepo(state, repo);
  state = next;
  if (clear) {
    $('env-rows').replaceChildren();
    $('env-existing').textContent = '';
  }
  if (state.deployment && state.deployment.repo !== repo) {
    state.deployment = undefined;
    state.lines = [];
    state.cause = undefined;
    state.lastStage = undefined;
  }
  save();
  $('error').textContent = '';
  renderHealth($('health'), undefined);
  renderTarget();
  renderDeployment();
  if (clearedEnv.length > 0) announce(clearedEnvText(clearedEnv, repo));
  const branch = selectEl('branch');
  if (!repo) {
    branch.replaceChildren();
    return;
  }
  branch.replaceChildren(el('option', { value: '' }, 'loading…'));
  vscode.postMessage({ type: 'selectRepo', repo });
}

function isRunning(): boolean {
  return !!state.deployment && inProgress(state.deployment.status);
}

function deploy(): void {
  const blocker = deployBlocker(state, isRunning());
  if (blocker) {
    $('error').textContent = blocker;
    return;
  }
  const repo = state.repo;
  if (!repo) return;
  $('error').textContent = '';
  const env: Record<string, string> = {};
  for (const { key, value } of envRows()) if (key.trim()) env[key.trim()] = value;
  vscode.postMessage({
    type: 'deploy',
    request: {
      repo,
      ref: state.ref || defaultBranches[repo],
      rootDir: state.rootDir,
      installCommand: state.installCommand,
      buildCommand: state.buildCommand,
      startCommand: state.startCommand,
      env,
    },
  });
  buttonEl('deploy').disabled = true;
  focusCancel = true;
  announce(`Deploying ${repo}…`);
  state.lines = [];
  save();
}

function renderDeployment(): void {
  const d = state.deployment;
  const running = isRunning();
  buttonEl('deploy').disabled = running;
  $('cancel').hidden = !running;
  if (running && focusCancel) {
    focusCancel = false;
    $('cancel').focus();
  }
  const stages = timeline(d, state.lastStage);
  for (const li of document.querySelectorAll<HTMLElement>('#timeline li')) {
    const view = stages.find((s) => s.stage === li.dataset.stage);
    if (!view) continue;
    li.className = view.state;
    li.dataset.state = view.state;
    if (view.current) li.setAttribute('aria-current', 'step');
    else li.removeAttribute('aria-current');
    li.replaceChildren(
      el('span', { class: 'stage-label' }, view.label),
      el('span', { class: 'stage-state' }, view.state === 'pending' ? '' : view.text),
    );
  }
  const result = $('result');
  result.replaceChildren();
  result.dataset.deploymentId = d?.id ?? '';
  result.dataset.status = d?.status ?? '';
  const url = d?.url;
  if (d?.status === 'live' && url) {
    const link = el('a', { id: 'url', href: url }, url);
    link.addEventListener('click', (e) => {
      e.preventDefault();
      vscode.postMessage({ type: 'openUrl', url });
    });
    result.append('Live at ', link);
  } else if (d?.status === 'failed') {
    result.append(
      el('span', { class: 'error', id: 'failure' }, `Failed: ${state.cause ?? d.error ?? 'unknown reason'}`),
    );
  } else if (d) {
    result.append(`${d.repo}@${d.ref}: ${d.status}`);
  }
  if (d) {
    const logs = el('a', { href: '#', class: 'secondary-link' }, 'Show full logs');
    logs.addEventListener('click', (e) => {
      e.preventDefault();
      vscode.postMessage({ type: 'showLogs', deploymentId: d.id });
    });
    result.append(' · ', logs);
  }
  $('log').textContent = (state.lines ?? []).join('\n');
}

function setDeployment(d: DeploymentView, cause?: string, lastStage?: DeploymentView['status']): void {
  const changed = state.deployment?.id !== d.id;
  const statusChanged = changed || state.deployment?.status !== d.status;
  if (changed) {
    state.lines = [];
    state.cause = undefined;
    state.lastStage = undefined;
  }
  state.deployment = d;
  if (cause) state.cause = cause;
  if (inProgress(d.status) && d.status !== 'queued') state.lastStage = d.status;
  else if (lastStage && inProgress(lastStage) && lastStage !== 'queued') state.lastStage = lastStage;
  save();
  renderDeployment();
  if (statusChanged || cause) announce(statusLine(d, state.cause));
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const m = event.data;
  switch (m.type) {
    case 'repos': {
      defaultBranches = Object.fromEntries(m.repos.map((r) => [r.fullName, r.defaultBranch]));
      appNames = Object.fromEntries(m.repos.map((r) => [r.fullName, r.app]));
      const select = selectEl('repo');
      select.replaceChildren(
        el('option', { value: '' }, 'Choose a repository…'),
        ...m.repos.map((r) => el('option', { value: r.fullName }, r.fullName)),
      );
      const wanted = m.selected ?? state.repo;
      if (wanted && wanted in defaultBranches) {
        select.value = wanted;
        const keepRef = state.ref;
        const sameRepo = wanted === state.repo;
        selectRepo(wanted);
        if (sameRepo && !m.selected) state.ref = keepRef;
      }
      renderTarget();
      return;
    }
    case 'branches': {
      if (m.repo !== state.repo) return;
      const select = selectEl('branch');
      select.replaceChildren(
        ...m.branches.map((b) => el('option', { value: b }, b === m.defaultBranch ? `${b} (default)` : b)),
      );
      select.value = state.ref && m.branches.includes(state.ref) ? state.ref : m.defaultBranch;
      state.ref = select.value;
      save();
      return;
    }
    case 'env': {
      if (m.repo !== state.repo) return;
      const keys = Object.keys(m.env);
      $('env-existing').textContent = keys.length
        ? `Already set for this app (values hidden): ${keys.join(', ')}. Add a row with the same name to replace one.`
        : '';
      return;
    }
    case 'deployment':
      // Only this form's repository: a deploy started elsewhere for another repo must not take over the board.
      if (m.deployment.repo.toLowerCase() !== state.repo?.toLowerCase()) return;
      // The newest deployment of the repository wins: a late answer about an older one must not replace it.
      if (
        state.deployment &&
        state.deployment.id !== m.deployment.id &&
        m.deployment.createdAt < state.deployment.createdAt
      )
        return;
      setDeployment(m.deployment, m.cause, m.lastStage);
      return;
    case 'log': {
      if (state.deployment?.id !== m.deploymentId) return;
      const lines = [...(state.lines ?? []), ...m.line.text.split('\n')];
      state.lines = lines.slice(-MAX_LINES);
      save();
      $('log').textContent = state.lines.join('\n');
      return;
    }
    case 'health':
      if (m.repo === state.repo) renderHealth($('health'), m);
      return;
    case 'error':
      $('error').textContent = m.message;
      focusCancel = false;
      buttonEl('deploy').disabled = false;
      return;
  }
});

render();
vscode.postMessage({ type: 'ready' });
