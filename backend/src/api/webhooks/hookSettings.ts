import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Store } from '../../ports/store';
import type { Sealer } from '../../security/sealer';

/** What a push hook needs to act alone: its signing secret, the branch it deploys, and whose token deploys it. */
export interface HookSettings {
  secret: string;
  branch: string;
  ownerId: string;
  /** The owner's GitHub token, given when they enabled the hook; re-verified with GitHub at each push. */
  token: string;
}

const settingsSchema = z.object({
  secret: z.string().min(32),
  branch: z.string().min(1),
  ownerId: z.string().min(1),
  token: z.string().min(1),
});

/**
 * The record lives in the store's sealed key-value map (the one app env uses) under `hook:<app>`: no app name can
 * take that key (app names are DNS labels, without ":"), and both store adapters already keep it. The whole record
 * is one sealed value, so the secret and the token are never at rest in clear.
 */
export class HookSettingsRepo {
  constructor(
    private readonly store: Store,
    private readonly sealer: Sealer,
  ) {}

  async get(app: string): Promise<HookSettings | undefined> {
    const sealed = (await this.store.getEnv(key(app))).settings as string | undefined;
    if (!sealed) return undefined;
    return settingsSchema.parse(JSON.parse(this.sealer.open(sealed)));
  }

  /** A fresh secret each time: enabling the hook again rotates it (the old one stops working at once). */
  async enable(app: string, settings: Omit<HookSettings, 'secret'>): Promise<HookSettings> {
    const full: HookSettings = { ...settings, secret: randomBytes(32).toString('hex') };
    await this.store.putEnv(key(app), { settings: this.sealer.seal(JSON.stringify(full)) });
    return full;
  }

  async disable(app: string): Promise<void> {
    await this.store.putEnv(key(app), {});
  }
}

function key(app: string): string {
  return `hook:${app}`;
}
