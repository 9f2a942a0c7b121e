import assert from 'node:assert/strict';
import { phasesOf, type BenchLogLine } from '../../bench/phases';
import { percentile, renderReport } from '../../bench/report';

/** A deploy log as the API returns it: [ms after the first line, stage, text]. */
function log(entries: Array<[number, string, string]>): BenchLogLine[] {
  const t0 = Date.parse('2026-12-07T14:00:00.000Z');
  return entries.map(([ms, stage, text]) => ({ ts: new Date(t0 + ms).toISOString(), stage, text }));
}

const COLD = log([
  [0, 'system', 'Queued alice/peek@main for peek-alice'],
  [40, 'fetch', 'Fetching alice/peek@main (23753ee)'],
  [700, 'fetch', 'Fetched 23753ee in 0.7 s'],
  [1000, 'build', 'Building alice/peek@23753ee with the local builder'],
  [1010, 'build', 'Detected a node app in the repository root: Node server'],
  [1300, 'build', 'cache not restored: no cache yet'],
  [1310, 'build', '$ npm ci --include=dev --prefer-offline'],
  [5000, 'build', 'added 68 packages in 4s'],
  [5310, 'build', 'npm ci --include=dev --prefer-offline finished in 4.0 s'],
  [5320, 'build', '$ npm run build'],
  [8320, 'build', 'npm run build finished in 3.0 s'],
  [8500, 'build', 'Dependency layer node_modules (0.8 MiB, sha256 48f87045ff72): stored'],
  [8520, 'build', 'Artifact artifacts/peek-alice/2375/3f90.tar.gz (0.0 MiB, sha256 2369c30c5224)'],
  [8570, 'build', 'cache saved (8.2 MB, 0.05 s)'],
  [8600, 'deploy', 'Releasing peek-alice with the process runtime'],
  [8610, 'deploy', 'Downloading the artifact'],
  [9300, 'deploy', 'Dependency layer node_modules (sha256 48f87045ff72) unpacked in 0.6 s'],
  [9310, 'deploy', 'Starting `npm start` on port 40281; waiting for HTTP health on /'],
  [9800, 'runtime', '> node server.js'],
  [10300, 'runtime', 'listening on 40281'],
  [10350, 'deploy', 'Healthy; peek-alice now serves deployment 3f90'],
]);

const WARM = log([
  [0, 'fetch', 'Fetching alice/peek@main (23753ee)'],
  [300, 'fetch', 'Fetched 23753ee in 0.3 s'],
  [310, 'build', 'Detected a node app in the repository root: Node server'],
  [360, 'build', 'cache restored (8.2 MB, 0.05 s): node_modules, package store'],
  [361, 'build', 'install skipped: the cache holds its result for this lockfile, toolchain and command'],
  [370, 'build', '$ npm run build'],
  [1370, 'build', 'npm run build finished in 1.0 s'],
  [1500, 'build', 'Artifact artifacts/peek-alice/2375/da48.tar.gz (0.0 MiB, sha256 f722cfd263a8)'],
  [1510, 'build', 'cache saved (8.2 MB, 0.01 s)'],
  [1520, 'deploy', 'Reusing the kept unpacked release of deployment da48'],
  [1540, 'deploy', 'Starting `npm start` on port 33973; waiting for HTTP health on /'],
  [2100, 'deploy', 'Healthy; peek-alice now serves deployment da48'],
]);

describe('npm run bench: its log phases and its table (smoke, no deploys)', function () {
  it('splits a cold deploy log into the platform phases', function () {
    assert.deepEqual(phasesOf(COLD), {
      fetch: 660,
      restore: 290,
      install: 4000,
      build: 3000,
      pack: 200,
      save: 50,
      unpack: 700,
      start: 990,
      health: 50,
    });
  });

  it('counts a skipped install as 0 and the first step as the build; no app output means start is all health', function () {
    const phases = phasesOf(WARM);
    assert.equal(phases.install, 0);
    assert.equal(phases.build, 1000);
    assert.equal(phases.restore, 50);
    assert.equal(phases.unpack, 20);
    assert.equal(phases.start, 0);
    assert.equal(phases.health, 560);
  });

  it('takes a lone build step for the build, not the install (a Go plan has no install step)', function () {
    const phases = phasesOf(
      log([
        [0, 'build', 'Detected a go app in the repository root'],
        [10, 'build', 'cache not restored: no cache yet'],
        [20, 'build', '$ go build -trimpath -o .cloudsmith/server ./cmd/go-server'],
        [2020, 'build', 'go build -trimpath -o .cloudsmith/server ./cmd/go-server finished in 2.0 s'],
      ]),
    );
    assert.equal(phases.install, 0);
    assert.equal(phases.build, 2000);
  });

  it('prints one table and a PASS or FAIL per target', function () {
    const stack = (label: string, bareCold: number, platformCold: number, platformWarm: number) => ({
      label,
      rounds: 3,
      bareCold,
      platformCold,
      platformWarm,
      coldPhases: phasesOf(COLD),
      warmPhases: phasesOf(WARM),
    });
    const firstLogMs = Array.from({ length: 50 }, (_, i) => (i === 49 ? 400 : 10 + i));
    const { lines, pass } = renderReport({
      stacks: [stack('Node server', 10_000, 10_500, 3_000), stack('Go', 4_000, 5_000, 1_000)],
      rollbackMs: 900,
      rollbackLiveMs: 1200,
      firstLogMs,
      postMs: firstLogMs.map((ms) => ms / 2),
    });
    const text = lines.join('\n');
    assert.match(lines[0], /^\| stack +\| rounds \| bare cold \(s\) \| platform cold \(s\) \|/);
    assert.match(
      text,
      /\| Node server +\| +3 \| +10\.0 \| +10\.5 \| +3\.0 \| +1\.05 \| +0\.30 \| fetch 0\.7, restore 0\.3, install 4\.0/,
    );
    assert.match(text, /^PASS {2}Node server: cold 1\.05x bare/m);
    assert.match(text, /^FAIL {2}Go: cold 1\.25x bare/m);
    assert.match(text, /^PASS {2}rollback to the previous release serving: 0\.9 s, reported live after 1\.2 s/m);
    assert.match(
      text,
      /^FAIL {2}first streamed log line after POST: p99 400 ms, median 34 ms over 50 deploys \(the POST's answer: median 17 ms\)/m,
    );
    assert.equal(pass, false);
  });

  it('takes the nearest-rank percentile', function () {
    assert.equal(percentile([5, 1, 3, 2, 4], 50), 3);
    assert.equal(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        99,
      ),
      99,
    );
    assert.ok(Number.isNaN(percentile([], 99)));
  });
});
