import type { Services } from '../services';

export class BackendOfflineError extends Error {
  constructor(apiUrl: string, reason: string | undefined) {
    super(`CloudSmith API at ${apiUrl} is unreachable${reason ? `: ${reason}` : ''}`);
  }
}

/** Checked before any question is asked: picking a repo and a branch for a backend that is down wastes the user's time. */
export async function requireBackend(s: Services): Promise<void> {
  if (await s.connection.check()) return;
  throw new BackendOfflineError(s.client.baseUrl, s.connection.offlineReason);
}
