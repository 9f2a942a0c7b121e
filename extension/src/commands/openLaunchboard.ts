import type { Services } from '../services';
import { repoFromArg } from './args';

export async function openLaunchboard(s: Services, arg?: unknown): Promise<void> {
  if (!s.auth.signedIn) await s.auth.signIn();
  s.launchboard.show(repoFromArg(arg));
}
