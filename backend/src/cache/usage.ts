import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

const usageSchema = z.object({
  entryBytes: z.number().nonnegative(),
  storeBytes: z.number().nonnegative(),
  /** When a build last restored or saved it (ms since the epoch): least recently used apps are evicted first. */
  usedAt: z.number(),
});

export type Usage = z.infer<typeof usageSchema>;

export const USAGE_FILE = 'usage.json';

/** An app's recorded usage; an app dir without one (never saved, or a crash) counts as empty and oldest. */
export async function readUsage(appDir: string): Promise<Usage> {
  try {
    return usageSchema.parse(JSON.parse(await readFile(join(appDir, USAGE_FILE), 'utf8')));
  } catch {
    return { entryBytes: 0, storeBytes: 0, usedAt: 0 };
  }
}

export async function writeUsage(appDir: string, usage: Usage): Promise<void> {
  await writeFile(join(appDir, USAGE_FILE), JSON.stringify(usage), { mode: 0o600 });
}

/** Every app's usage under `appsDir`, least recently used first. */
export async function allUsage(appsDir: string): Promise<{ app: string; usage: Usage }[]> {
  const apps = await readdir(appsDir).catch(() => [] as string[]);
  const all = await Promise.all(apps.map(async (app) => ({ app, usage: await readUsage(join(appsDir, app)) })));
  return all.sort((a, b) => a.usage.usedAt - b.usage.usedAt);
}

export function totalBytes(u: Usage): number {
  return u.entryBytes + u.storeBytes;
}
