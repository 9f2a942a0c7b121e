/**
 * A deployment's statuses and the groups of them both sides of the API act on. Written once, here, because
 * they are part of the wire contract: the backend's domain re-exports them, the extension and the CLI import
 * them from this package. No runtime imports, so any bundle can carry this file.
 */

/**
 * Every status, in lifecycle order. `crashed` is a live release whose app stopped serving (it crash-looped or stopped
 * answering its health check); it goes back to `live` if the app recovers. The three after it are the ends a
 * deployment can come to.
 */
export const STATUSES = [
  'queued',
  'fetching',
  'building',
  'deploying',
  'live',
  'crashed',
  'failed',
  'cancelled',
  'superseded',
] as const;
export type DeploymentStatus = (typeof STATUSES)[number];

/** Still on its way to live: work may be running for it, and cancel or fail can still stop it. */
export const IN_FLIGHT_STATUSES: readonly DeploymentStatus[] = ['queued', 'fetching', 'building', 'deploying'];

/** Statuses after which a deployment's log stream ends: live ends a deploy even though it may later be superseded. */
export const TERMINAL_STATUSES: readonly DeploymentStatus[] = ['live', 'crashed', 'failed', 'cancelled', 'superseded'];

/** The in-progress stages in the order a deployment goes through them. */
export const PIPELINE: readonly DeploymentStatus[] = [...IN_FLIGHT_STATUSES, 'live'];

/** Take any string so a client meeting a status newer than its copy of this list simply answers false. */
export function isInFlight(status: string): boolean {
  return (IN_FLIGHT_STATUSES as readonly string[]).includes(status);
}

export function isTerminal(status: string): boolean {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}
