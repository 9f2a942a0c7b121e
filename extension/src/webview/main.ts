/// <reference lib="dom" />
import './launchboard.css';
import type { DeploymentStatus, DeploymentView } from '@cloudsmith/client';
import type { FromWebview, LaunchboardState, ToWebview } from './messages';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
  getState(): LaunchboardState | undefined;
  setState(state: LaunchboardState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const MAX_LINES = 12;
const STAGES: DeploymentStatus[] = ['queued', 'fetching', 'building', 'deploying', 'live'];
let state: LaunchboardState = vscode.getState() ?? {};
let defaultBranches: Record<string, string> = {};

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

const save = () => vscode.setState(state);
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function field(id: keyof LaunchboardState & string, label: string, placeholder: string): HTMLElement {
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
  const remove = el('button', { class: 'secondary icon', title: 'Remove', 'aria-label': 'Remove variable' }, '✕');
  const row = el('div', { class: 'env-row' }, k, v, remove);
  remove.addEventListener('click', () => {
    row.remove();
    saveEnv();
  });
  k.addEventListener('input', saveEnv);
  v.addEventListener('input', saveEnv);
  return row;
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
  save();
}

function render(): void {
  const app = $('app');
  app.replaceChildren(
    el('h1', {}, 'CloudSmith Launchboard'),
    el(
      'section',
      { class: 'form' },
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
        { class: 'env' },
        el(
          'div',
          { class: 'env-head' },
          el('span', {}, 'Environment variables'),
          el('button', { id: 'add-env', class: 'secondary' }, '+ Add'),
        ),
        el('div', { id: 'env-rows' }),
        el('p', { id: 'env-existing', class: 'hint' }),
      ),
      el(
        'div',
        { class: 'actions' },
        el('button', { id: 'deploy' }, 'Deploy'),
        el('button', { id: 'cancel', class: 'secondary', hidden: '' }, 'Cancel'),
      ),
      el('p', { id: 'error', class: 'error', role: 'alert' }),
    ),
    el(
      'section',
      { class: 'progress' },
      el('ol', { id: 'timeline' }, ...STAGES.map((s) => el('li', { 'data-stage': s }, s))),
      el('p', { id: 'result' }),
      el('pre', { id: 'log' }),
    ),
  );
  for (const key of state.envKeys ?? []) $('env-rows').append(envRow(key));
  $('add-env').addEventListener('click', () => {
    $('env-rows').append(envRow());
    saveEnv();
  });
  $<HTMLSelectElement>('repo').addEventListener('change', (e) => selectRepo((e.target as HTMLSelectElement).value));
  $<HTMLSelectElement>('branch').addEventListener('change', (e) => {
    state.ref = (e.target as HTMLSelectElement).value;
    save();
  });
  $('deploy').addEventListener('click', deploy);
  $('cancel').addEventListener(
    'click',
    () => state.deployment && vscode.postMessage({ type: 'cancel', deploymentId: state.deployment.id }),
  );
  renderDeployment();
}

function selectRepo(repo: string): void {
  state.repo = repo;
  state.ref = undefined;
  save();
  const branch = $<HTMLSelectElement>('branch');
  branch.replaceChildren(el('option', { value: '' }, 'loading…'));
  vscode.postMessage({ type: 'selectRepo', repo });
}

function deploy(): void {
  if (!state.repo) return;
  $('error').textContent = '';
  const env: Record<string, string> = {};
  for (const { key, value } of envRows()) if (key.trim()) env[key.trim()] = value;
  vscode.postMessage({
    type: 'deploy',
    request: {
      repo: state.repo,
      ref: state.ref || defaultBranches[state.repo],
      rootDir: state.rootDir,
      installCommand: state.installCommand,
      buildCommand: state.buildCommand,
      startCommand: state.startCommand,
      env,
    },
  });
  ($('deploy') as HTMLButtonElement).disabled = true;
  state.lines = [];
  save();
}

function renderDeployment(): void {
  const d = state.deployment;
  const running = !!d && STAGES.indexOf(d.status) >= 0 && d.status !== 'live';
  ($('deploy') as HTMLButtonElement).disabled = running;
  $('cancel').hidden = !running;
  const reached = d ? STAGES.indexOf(d.status) : -1;
  for (const li of document.querySelectorAll<HTMLElement>('#timeline li')) {
    const i = STAGES.indexOf(li.dataset.stage as DeploymentStatus);
    li.className = !d
      ? ''
      : i < reached || d.status === 'live'
        ? 'done'
        : i === reached
          ? 'current'
          : d.status === 'failed' || d.status === 'cancelled'
            ? 'skipped'
            : '';
  }
  const result = $('result');
  result.replaceChildren();
  result.dataset.deploymentId = d?.id ?? '';
  result.dataset.status = d?.status ?? '';
  if (d?.status === 'live' && d.url) {
    const link = el('a', { id: 'url', href: d.url }, d.url);
    link.addEventListener('click', (e) => {
      e.preventDefault();
      vscode.postMessage({ type: 'openUrl', url: d.url! });
    });
    result.append('Live at ', link);
  } else if (d?.status === 'failed') {
    result.append(el('span', { class: 'error' }, `Failed: ${d.error ?? 'unknown reason'}`));
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

function setDeployment(d: DeploymentView): void {
  if (state.deployment?.id !== d.id) state.lines = [];
  state.deployment = d;
  save();
  renderDeployment();
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const m = event.data;
  switch (m.type) {
    case 'repos': {
      defaultBranches = Object.fromEntries(m.repos.map((r) => [r.fullName, r.defaultBranch]));
      const select = $<HTMLSelectElement>('repo');
      select.replaceChildren(
        el('option', { value: '' }, 'Choose a repository…'),
        ...m.repos.map((r) => el('option', { value: r.fullName }, r.fullName)),
      );
      const wanted = m.selected ?? state.repo;
      if (wanted && defaultBranches[wanted] !== undefined) {
        select.value = wanted;
        const keepRef = state.ref;
        selectRepo(wanted);
        if (wanted === state.repo && !m.selected) state.ref = keepRef;
      }
      return;
    }
    case 'branches': {
      if (m.repo !== state.repo) return;
      const select = $<HTMLSelectElement>('branch');
      select.replaceChildren(
        ...m.branches.map((b) => el('option', { value: b }, b === m.defaultBranch ? `${b} (default)` : b)),
      );
      select.value = state.ref && m.branches.includes(state.ref) ? state.ref : m.defaultBranch;
      state.ref = select.value;
      save();
      return;
    }
    case 'env': {
      const keys = Object.keys(m.env);
      $('env-existing').textContent = keys.length
        ? `Already set for this app (values hidden): ${keys.join(', ')}. Add a row with the same name to replace one.`
        : '';
      return;
    }
    case 'deployment':
      if (state.deployment && state.deployment.id !== m.deployment.id && m.deployment.repo !== state.repo) return;
      setDeployment(m.deployment);
      return;
    case 'log': {
      if (state.deployment?.id !== m.deploymentId) return;
      const lines = [...(state.lines ?? []), ...m.line.text.split('\n')];
      state.lines = lines.slice(-MAX_LINES);
      save();
      $('log').textContent = state.lines.join('\n');
      return;
    }
    case 'error':
      $('error').textContent = m.message;
      ($('deploy') as HTMLButtonElement).disabled = false;
      return;
  }
});

render();
vscode.postMessage({ type: 'ready' });
