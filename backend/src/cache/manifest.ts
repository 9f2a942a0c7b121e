import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

const MANIFEST = 'manifest.json';
const VERSION = 1;

const keySchema = z.object({ lockfiles: z.string(), toolchain: z.string(), commands: z.string(), env: z.string() });

const bodySchema = z.object({
  version: z.literal(VERSION),
  key: keySchema,
  /** In the entry, dir i is stored at `d/<i>`; `entries` is how many names it held at its top, a check on restore. */
  dirs: z.array(
    z.object({ path: z.string(), entries: z.number().int().nonnegative(), bytes: z.number().nonnegative() }),
  ),
  bytes: z.number().nonnegative(),
  savedAt: z.string(),
});

export type ManifestBody = z.infer<typeof bodySchema>;

const fileSchema = z.object({ body: bodySchema, sha256: z.string() });

/** Where dir `i` of an entry lives. */
export function storedDir(entry: string, i: number): string {
  return join(entry, 'd', String(i));
}

function checksum(body: ManifestBody): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('hex');
}

/** Written last into a temporary entry, which only then is renamed into place: an entry without one is half-written. */
export async function writeManifest(entry: string, body: ManifestBody): Promise<void> {
  await writeFile(join(entry, MANIFEST), JSON.stringify({ body, sha256: checksum(body) }), { mode: 0o600 });
}

export type ReadManifest = { ok: true; body: ManifestBody } | { ok: false; missing: boolean; why: string };

/** Reads and checks an entry: the manifest's checksum, and every dir it lists is there with as many names at its top. */
export async function readManifest(entry: string): Promise<ReadManifest> {
  let raw: string;
  try {
    raw = await readFile(join(entry, MANIFEST), 'utf8');
  } catch (err) {
    const absent = (err as NodeJS.ErrnoException).code === 'ENOENT';
    const entryThere = absent
      ? await readdir(entry).then(
          () => true,
          () => false,
        )
      : true;
    if (!entryThere) return { ok: false, missing: true, why: 'no cache yet' };
    return { ok: false, missing: false, why: 'its manifest is missing (a save did not finish)' };
  }
  let parsed: z.infer<typeof fileSchema>;
  try {
    parsed = fileSchema.parse(JSON.parse(raw));
  } catch {
    return { ok: false, missing: false, why: 'its manifest is unreadable' };
  }
  if (checksum(parsed.body) !== parsed.sha256) return { ok: false, missing: false, why: 'manifest checksum mismatch' };
  for (const [i, dir] of parsed.body.dirs.entries()) {
    const names = await readdir(storedDir(entry, i)).catch(() => undefined);
    if (names?.length !== dir.entries) return { ok: false, missing: false, why: `${dir.path} is not as it was saved` };
  }
  return { ok: true, body: parsed.body };
}
