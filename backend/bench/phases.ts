/** One deploy-log line as the API returns it (GET /api/deployments/:id/logs). */
export interface BenchLogLine {
  ts: string;
  stage: string;
  text: string;
}

/** Where a deploy's own time goes, in ms, read from its log; a phase that did not happen is 0. */
export interface Phases {
  fetch: number;
  restore: number;
  install: number;
  build: number;
  save: number;
  pack: number;
  unpack: number;
  start: number;
  health: number;
}

const INSTALL = /\b(ci|install|add|sync|venv)\b/;

export const PHASES: Array<keyof Phases> = [
  'fetch',
  'restore',
  'install',
  'build',
  'save',
  'pack',
  'unpack',
  'start',
  'health',
];

/**
 * Splits a deploy log into phases by the lines that open and close them (fetch, the cache's restore/save lines,
 * each `$ command` and its "finished in", the artifact line, the release's download/unpack, `Starting`, the app's
 * last output before `Healthy`). Robust to lines missing: a phase whose bounds are not both found counts 0.
 */
export function phasesOf(lines: BenchLogLine[]): Phases {
  const at = (i: number) => (i >= 0 ? Date.parse(lines[i].ts) : NaN);
  const find = (test: (l: BenchLogLine) => boolean, from = 0) => {
    for (let i = Math.max(0, from); i < lines.length; i++) if (test(lines[i])) return i;
    return -1;
  };
  const span = (a: number, b: number) => (a >= 0 && b >= 0 && b >= a ? Math.max(0, at(b) - at(a)) : 0);

  const fetching = find((l) => l.stage === 'fetch' && l.text.startsWith('Fetching'));
  const fetched = find((l) => l.stage === 'fetch' && l.text.startsWith('Fetched'));
  const detected = find((l) => l.stage === 'build' && l.text.startsWith('Detected'));
  const restored = find((l) => /^cache (restored|not restored)/.test(l.text));
  // Each build step: its `$ command` line and its "finished in" line, in order; install comes first unless skipped.
  const steps: Array<[number, number]> = [];
  for (let i = find((l) => l.stage === 'build' && l.text.startsWith('$ ')); i >= 0;) {
    const label = lines[i].text.slice(2);
    const done = find((l) => l.text.startsWith(`${label} finished in `), i + 1);
    steps.push([i, done]);
    i = find((l) => l.stage === 'build' && l.text.startsWith('$ '), Math.max(i, done) + 1);
  }
  // A plan may have no install step (Go builds fetch modules as they compile): a step is the install by what it runs.
  const isInstall = ([open]: [number, number]) => INSTALL.test(lines[open].text.slice(2));
  const installStep = steps.find(isInstall);
  const buildStep = steps.find((step) => !isInstall(step));
  const lastStepEnd = steps.length ? steps[steps.length - 1][1] : Math.max(restored, detected);
  const artifact = find((l) => l.stage === 'build' && l.text.startsWith('Artifact '));
  const saved = find((l) => /^cache (saved|not saved)/.test(l.text));
  const downloading = find((l) => l.stage === 'deploy' && l.text.startsWith('Downloading the artifact'));
  const reusing = find((l) => l.stage === 'deploy' && l.text.startsWith('Reusing the kept unpacked release'));
  const starting = find((l) => l.stage === 'deploy' && l.text.startsWith('Starting `'));
  const healthy = find((l) => l.stage === 'deploy' && l.text.startsWith('Healthy'));
  let lastOutput = -1;
  for (let i = starting + 1; starting >= 0 && i < (healthy >= 0 ? healthy : lines.length); i++) {
    if (lines[i].stage === 'runtime') lastOutput = i;
  }
  return {
    fetch: span(fetching, fetched),
    restore: span(detected, restored),
    install: installStep ? span(installStep[0], installStep[1]) : 0,
    build: buildStep ? span(buildStep[0], buildStep[1]) : 0,
    pack: span(lastStepEnd, artifact),
    save: span(artifact, saved),
    unpack: span(downloading >= 0 ? downloading : reusing, starting),
    // The app's last line before it was found healthy ("listening on …") ends its start.
    start: span(starting, lastOutput >= 0 ? lastOutput : -1),
    health: span(lastOutput >= 0 ? lastOutput : starting, healthy),
  };
}
