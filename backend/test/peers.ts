/**
 * The real peers some tests need (a Kafka broker, moto, a Docker engine, code-server). A green run must never hide a
 * part that did not run, so a missing peer is a failure, except off CI when the developer named it in
 * CLOUDSMITH_TEST_SKIP (e.g. `CLOUDSMITH_TEST_SKIP=docker,kafka`): then every test that needs it is pending, and a
 * marker line lets scripts/test.sh count those tests per peer.
 */
export const PEERS = ['kafka', 'moto', 'docker', 'vscode-e2e', 'sandbox'] as const;
export type Peer = (typeof PEERS)[number];

/** What scripts/test.sh greps for: `[peer-skip] <peer> <number of tests> <suite>`. */
export const SKIP_MARKER = '[peer-skip]';

export const KAFKA_HOW_TO =
  'CLOUDSMITH_TEST_KAFKA is unset: run `bash scripts/kafka.sh up && eval "$(bash scripts/kafka.sh env)"`';

export type PeerDecision = { action: 'run' } | { action: 'skip' } | { action: 'fail'; reason: string };

/** The parts named in CLOUDSMITH_TEST_SKIP (comma or space separated). */
export function namedSkips(env: NodeJS.ProcessEnv = process.env): Set<string> {
  return new Set(
    (env.CLOUDSMITH_TEST_SKIP ?? '')
      .split(/[\s,]+/)
      .map((s) => s.trim())
      .filter(Boolean),
  );
}

/** Whether a test needing `peer` runs, skips or fails; `provisioned` says whether its env is set. */
export function decide(peer: Peer, provisioned: boolean, env: NodeJS.ProcessEnv = process.env): PeerDecision {
  if (provisioned) return { action: 'run' };
  if (env.CI === 'true') return { action: 'fail', reason: `${peer} is required under CI=true and is not provisioned` };
  if (namedSkips(env).has(peer)) return { action: 'skip' };
  return {
    action: 'fail',
    reason: `${peer} is not provisioned and not named in CLOUDSMITH_TEST_SKIP (set CLOUDSMITH_TEST_SKIP=${peer} to skip its tests)`,
  };
}

/**
 * Call first in a `before` hook (or a test) of the suite that needs `peer`, with the peer's settings (undefined when it
 * is not provisioned). Returns them when it is; otherwise see `missingPeer`. `howTo` tells how to provision it.
 */
export function requirePeer<T>(ctx: Mocha.Context, peer: Peer, settings: T | undefined, howTo: string): T {
  return settings ?? missingPeer(ctx, peer, howTo);
}

/**
 * For a suite whose peer is not provisioned: skips it (every test in it pending) when the developer named the peer in
 * CLOUDSMITH_TEST_SKIP off CI; otherwise throws, failing the suite.
 */
export function missingPeer(ctx: Mocha.Context, peer: Peer, howTo: string): never {
  const decision = decide(peer, false);
  if (decision.action !== 'skip') throw new Error(`${decision.action === 'fail' ? decision.reason : peer}. ${howTo}`);
  // In a hook the skipped tests are the whole suite's; in a test, just that one.
  const runnable = ctx.test;
  const suite = runnable?.parent;
  const inTest = suite?.tests.some((t) => t === runnable) ?? false;
  const count = inTest ? 1 : (suite?.total() ?? 0);
  console.log(`      ${SKIP_MARKER} ${peer} ${count} ${suite?.fullTitle() ?? ''}`);
  return ctx.skip();
}
