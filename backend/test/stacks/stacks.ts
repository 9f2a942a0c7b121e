import assert from 'node:assert/strict';
import { fetchApp } from '../helpers/appFetch';
import type { World } from '../helpers/world';

/**
 * corepack on machines behind a TLS-intercepting proxy (as here): it fetches with Node's own CA list, so
 * the system bundle is added; yarn berry comes from the npm registry instead of repo.yarnpkg.com; and the
 * registry's answers carry no signatures it can check. Passed as the app's env, as a user would set it.
 */
export const COREPACK_MIRROR_ENV = {
  COREPACK_NPM_REGISTRY: 'https://registry.npmjs.org',
  COREPACK_INTEGRITY_KEYS: '0',
  NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt',
};

/** Poetry fetches with requests' own CA list (pip reads /etc/pip.conf): the system bundle, as a user would set it. */
export const PYTHON_CA_ENV = { REQUESTS_CA_BUNDLE: '/etc/ssl/certs/ca-certificates.crt' };

export interface StackCase {
  fixture: string;
  marker: RegExp;
  /** Lines the build log must contain: the decision and why. */
  log?: RegExp[];
  env?: Record<string, string>;
}

/** The fields of a deployment these tests read. */
export interface DeploymentView {
  id: string;
  app: string;
  status: string;
  error?: string;
  url?: string;
}

let counter = 0;

/** Deploys `fixture` as a new repo, or again as `existingRepo` (the same app). */
async function deployAndWait(
  world: World,
  fixture: string,
  body: Record<string, unknown>,
  existingRepo?: string,
): Promise<DeploymentView & { repo: string }> {
  const repo = existingRepo ?? `alice/${fixture}-${++counter}`;
  if (!existingRepo) await world.addRepo(repo, fixture);
  const queued = (await world.deploy(world.alice, { repo, ...body })) as DeploymentView;
  return { ...((await world.waitFor(world.alice, queued.id, undefined, 600_000)) as DeploymentView), repo };
}

/**
 * Deploys a fixture through the platform's HTTP API (as a new repo, or again as `existingRepo`) and checks that
 * its live URL serves the marker.
 */
export async function deployLive(
  world: World,
  c: StackCase,
  existingRepo?: string,
): Promise<{ done: DeploymentView & { url: string; repo: string }; log: string; ms: number }> {
  const started = Date.now();
  const done = await deployAndWait(world, c.fixture, c.env ? { env: c.env } : {}, existingRepo);
  const ms = Date.now() - started;
  const log = await world.logText(world.alice, done.id);
  assert.equal(done.status, 'live', `${c.fixture}: ${done.error ?? ''}\n${log.split('\n').slice(-30).join('\n')}`);
  assert.ok(done.url);
  const page = await fetchApp(done.url);
  assert.equal(page.status, 200, page.body);
  assert.match(page.body, c.marker);
  for (const re of c.log ?? []) assert.match(log, re);
  return { done: { ...done, url: done.url }, log, ms };
}

/** Deploys a fixture that must fail, returning the deployment's error; never a stack trace. */
export async function deployFailed(
  world: World,
  fixture: string,
  body: Record<string, unknown> = {},
  existingRepo?: string,
): Promise<string> {
  const done = await deployAndWait(world, fixture, body, existingRepo);
  assert.equal(done.status, 'failed');
  const error = done.error ?? '';
  assert.doesNotMatch(error, /\n\s+at .*\(.*:\d+:\d+\)/, 'a stack trace reached the user');
  return error;
}
