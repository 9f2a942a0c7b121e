import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Store } from '../../ports/store';
import type { Sealer } from '../../security/sealer';

const settingsSchema = z.object({
  secret: z.string().min(32),
  /** The production branch. */
  branch: z.string().min(1),
  ownerId: z.string().min(1),
  /** The owner's GitHub token, given when they enabled the hook; re-verified with GitHub at each delivery. */
  token: z.string().min(1),
  // Records written before auto-deploy settings existed read as the behaviour they had: push deploys, no previews.
  deployOnPush: z.boolean().default(true),
  previews: z.boolean().default(false),
  /** The hook's id on the GitHub repo, once the platform registered it there. */
  hookId: z.number().int().optional(),
  /** Where GitHub delivers (as the owner's request reached the API), for links back from GitHub to the platform. */
  payloadUrl: z.string().optional(),
});

/** What a hook needs to act alone: its signing secret, what it deploys, and whose token deploys it. */
export type HookSettings = z.infer<typeof settingsSchema>;
export type HookSettingsChange = Partial<Pick<HookSettings, 'branch' | 'deployOnPush' | 'previews' | 'hookId'>>;

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

  /**
   * A fresh secret each time: enabling the hook again rotates it (the old one stops working at once). Settings not
   * given keep their earlier values.
   */
  async enable(
    app: string,
    settings: Pick<HookSettings, 'branch' | 'ownerId' | 'token' | 'payloadUrl'> & HookSettingsChange,
  ): Promise<HookSettings> {
    const earlier = await this.get(app);
    const full = settingsSchema.parse({
      deployOnPush: earlier?.deployOnPush,
      previews: earlier?.previews,
      ...settings,
      secret: randomBytes(32).toString('hex'),
    });
    await this.put(app, full);
    return full;
  }

  /** Changes settings of an enabled hook; undefined when the app has none. */
  async update(app: string, change: HookSettingsChange): Promise<HookSettings | undefined> {
    const current = await this.get(app);
    if (!current) return undefined;
    const next = settingsSchema.parse({ ...current, ...change });
    await this.put(app, next);
    return next;
  }

  private async put(app: string, settings: HookSettings): Promise<void> {
    await this.store.putEnv(key(app), { settings: this.sealer.seal(JSON.stringify(settings)) });
  }

  async disable(app: string): Promise<void> {
    await this.store.putEnv(key(app), {});
  }
}

function key(app: string): string {
  return `hook:${app}`;
}
