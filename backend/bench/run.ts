import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { World } from '../test/helpers/world';
import { bareDeploy } from './bare';
import { firstLogLatency, platformDeploy, platformRollback } from './platform';
import { renderReport, type BenchResult, type StackResult } from './report';
import { STACKS, type BenchStack } from './stacks';

/**
 * `npm run bench`: the real embedded platform (local builder, process runtime, fs artifacts; sandboxed where
 * bubblewrap works) against the steps a user types by hand, measured in the same run. Per stack: bare cold (clone,
 * install, build, start, first 200, with an empty HOME: no npm/pip/Go cache), platform cold (a new app: empty build
 * cache and package store), platform warm (a redeploy after a code change, lockfile unchanged). Then the rollback
 * to the previous release, and the first streamed log line after POST over CLOUDSMITH_BENCH_FIRST_LOG deploys.
 * Each column is the median of CLOUDSMITH_BENCH_ROUNDS rounds (by default 9 for stacks whose bare steps take under
 * 10 s, 5 up to a minute, 1 beyond).
 * CLOUDSMITH_BENCH_STACKS picks stacks by fixture name (comma-separated). Exits 1 when a target fails.
 */
const FIXTURES = join(__dirname, '..', 'test', 'fixtures');

/** The bare steps in a new clone of `repo`, with an empty HOME (no npm, pip or Go cache): their ms to the first 200. */
async function bareSteps(world: World, stack: BenchStack, repo: string): Promise<number> {
  const home = mkdtempSync(join(tmpdir(), 'bench-home-'));
  try {
    return await bareDeploy(stack, world.git.cloneUrl(repo), world.alice.token, home);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** One measured round of a stack: a new app's cold deploy, the bare steps, and that app's warm redeploy. */
async function benchRound(world: World, stack: BenchStack, round: number) {
  const repo = `alice/bench-${stack.fixture}${round ? `-${round + 1}` : ''}`;
  await world.addRepo(repo, stack.fixture);
  // The platform first, so whatever the first run warms (the page cache) favours the bare steps.
  const cold = await platformDeploy(world, repo);
  const bareCold = await bareSteps(world, stack, repo);
  const original = readFileSync(join(FIXTURES, stack.fixture, stack.changed), 'utf8');
  await world.git.commit(repo, { [stack.changed]: original + stack.comment(1) }, { message: 'bench: a code change' });
  const warm = await platformDeploy(world, repo);
  console.log(
    `${stack.label} round ${round + 1}: bare cold ${bareCold} ms, platform cold ${cold.totalMs} ms, platform warm ${warm.totalMs} ms`,
  );
  return { bareCold, cold, warm };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];

/**
 * Runs rounds of a stack and reports each column's median: a deploy of a few seconds varies by tens of percent
 * between two runs on a 2-core machine. `rounds` (CLOUDSMITH_BENCH_ROUNDS) overrides the count the first round's
 * bare time picks.
 */
async function benchStack(
  world: World,
  stack: BenchStack,
  rounds: number | undefined,
): Promise<StackResult & { coldId: string; app: string }> {
  // Unmeasured: cold deploys are measured with empty local caches but a warm package registry, on a platform that has
  // been up (its code for the stack loaded once). Else the first round alone pays both, and fills the registry's
  // caching proxy for the rounds after it.
  await world.addRepo(`alice/bench-${stack.fixture}-warm-up`, stack.fixture);
  await platformDeploy(world, `alice/bench-${stack.fixture}-warm-up`);
  const first = await benchRound(world, stack, 0);
  const all = [first];
  // Each round's app stays (idle) until the bench ends: deleting one would clean up its files while the next round runs.
  // Most of a small app's deploy is its install's downloads, which swing by a tenth from one minute to the next: cheap
  // rounds are repeated more, so that the medians stand still.
  const planned = rounds ?? (first.bareCold < 10_000 ? 9 : first.bareCold < 60_000 ? 5 : 1);
  for (let round = 1; round < planned; round++) all.push(await benchRound(world, stack, round));
  const middle = <T extends { totalMs: number }>(runs: T[]) =>
    runs.find((r) => r.totalMs === median(runs.map((x) => x.totalMs))) ?? runs[0];
  const cold = middle(all.map((r) => r.cold));
  const warm = middle(all.map((r) => r.warm));
  return {
    label: stack.label,
    rounds: all.length,
    bareCold: median(all.map((r) => r.bareCold)),
    platformCold: cold.totalMs,
    platformWarm: warm.totalMs,
    coldPhases: cold.phases,
    warmPhases: warm.phases,
    coldId: first.cold.id,
    app: first.cold.app,
  };
}

async function benchPlatform(): Promise<boolean> {
  const picked = process.env.CLOUDSMITH_BENCH_STACKS?.split(',').map((s) => s.trim());
  const stacks = picked ? STACKS.filter((s) => picked.includes(s.fixture)) : STACKS;
  const samples = Number(process.env.CLOUDSMITH_BENCH_FIRST_LOG ?? 50);
  const asked = process.env.CLOUDSMITH_BENCH_ROUNDS;
  const rounds = asked ? Math.max(1, Number(asked)) : undefined;
  // The bare steps use every core of the machine; so do the platform's builds and apps here (the default is 1 each).
  const cores = String(availableParallelism());
  const world = await World.start({ env: { CLOUDSMITH_BUILD_CPUS: cores, CLOUDSMITH_APP_CPUS: cores } });
  try {
    console.log(
      `\nDeploy benchmark: ${stacks.map((s) => s.label).join(', ')}; times are POST (or the first command) to the first 200; ` +
        `${cores} cores for builds and apps; bubblewrap ${existsSync('/usr/bin/bwrap') ? 'found (sandboxed)' : 'not found (unsandboxed)'}`,
    );
    const result: BenchResult = { stacks: [], firstLogMs: [], postMs: [] };
    let rollbackTarget: { app: string; coldId: string } | undefined;
    for (const stack of stacks) {
      const measured = await benchStack(world, stack, rounds);
      result.stacks.push(measured);
      rollbackTarget ??= measured;
    }
    if (rollbackTarget) {
      // The first stack's cold release is the previous one now: its warm redeploy is live.
      const rollback = await platformRollback(world, rollbackTarget.app, rollbackTarget.coldId);
      result.rollbackMs = rollback.servingMs;
      result.rollbackLiveMs = rollback.totalMs;
      const repo = `alice/bench-${stacks[0].fixture}`;
      for (let i = 0; i < samples; i++) {
        const sample = await firstLogLatency(world, repo);
        result.firstLogMs.push(sample.firstLogMs);
        result.postMs.push(sample.postMs);
      }
    }
    const { lines, pass } = renderReport(result);
    console.log(`\n${lines.join('\n')}`);
    return pass;
  } finally {
    await world.close();
  }
}

/** `deploy` or `kafka` (scripts/bench.sh runs them in turn, the broker only for the second); both without one. */
async function main(part: string | undefined): Promise<boolean> {
  const pass = part === 'kafka' || (await benchPlatform());
  // It says so itself when no broker is given.
  if (part !== 'deploy') await (await import('./kafka')).benchKafka();
  return pass;
}

main(process.argv[2]).then(
  (pass) => process.exit(pass ? 0 : 1),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
