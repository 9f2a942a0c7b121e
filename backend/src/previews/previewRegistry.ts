import { z } from 'zod';
import type { Store } from '../ports/store';

const recordSchema = z.object({
  name: z.string(),
  of: z.string(),
  kind: z.enum(['pr', 'branch']),
  ref: z.string(),
  pr: z.number().int().positive().optional(),
  createdAt: z.string(),
  /** The one comment on the pull request the platform keeps editing. */
  commentId: z.number().int().optional(),
});
export type PreviewRecord = z.infer<typeof recordSchema>;

/**
 * Which apps are previews of which, kept in the store's key-value map like hook settings: `previews:<app>` maps
 * each preview's name to its record, `preview:<name>` points back at the production app. No app name can take
 * either key (app names are DNS labels, without ":"), and no column is added to either store adapter. Entries are
 * written with the store's atomic patch, never read-modify-write: API replicas creating previews of one app at
 * the same time each keep their entry.
 */
export class PreviewRegistry {
  constructor(private readonly store: Store) {}

  /** Newest first. */
  async list(of: string): Promise<PreviewRecord[]> {
    const index = await this.store.getEnv(indexKey(of));
    return Object.values(index)
      .map((json) => recordSchema.parse(JSON.parse(json)))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.name.localeCompare(a.name));
  }

  async get(name: string): Promise<PreviewRecord | undefined> {
    const of = await previewParent(this.store, name);
    if (!of) return undefined;
    const index = await this.store.getEnv(indexKey(of));
    return Object.hasOwn(index, name) ? recordSchema.parse(JSON.parse(index[name])) : undefined;
  }

  async put(record: PreviewRecord): Promise<void> {
    await this.store.patchEnv(indexKey(record.of), { [record.name]: JSON.stringify(record) });
    await this.store.putEnv(parentKey(record.name), { of: record.of });
  }

  /** The comment a pull request got, kept past its preview so a reopened pull request's comment is edited too. */
  async commentOf(of: string, pr: number): Promise<number | undefined> {
    const id = (await this.store.getEnv(commentsKey(of)))[String(pr)] as string | undefined;
    return id === undefined ? undefined : Number(id);
  }

  async rememberComment(of: string, pr: number, commentId: number): Promise<void> {
    await this.store.patchEnv(commentsKey(of), { [String(pr)]: String(commentId) });
  }

  /** Drops the app's own record (when it is a preview) and its index of previews (when it had any). */
  async forget(name: string): Promise<void> {
    const of = await previewParent(this.store, name);
    if (of) {
      await this.store.patchEnv(indexKey(of), { [name]: null });
      await this.store.putEnv(parentKey(name), {});
    }
    await this.store.putEnv(indexKey(name), {});
    await this.store.putEnv(commentsKey(name), {});
  }
}

/** The production app a preview belongs to; undefined for any other app. Builds read it to inherit env vars. */
export async function previewParent(store: Store, app: string): Promise<string | undefined> {
  return (await store.getEnv(parentKey(app))).of;
}

function indexKey(app: string): string {
  return `previews:${app}`;
}

function commentsKey(app: string): string {
  return `prcomments:${app}`;
}

function parentKey(app: string): string {
  return `preview:${app}`;
}
