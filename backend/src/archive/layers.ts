import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { UserFacingError } from '../domain/errors';

/**
 * Dependency layers: a release's installed dependencies (node_modules, a Python venv) packed on their own, stored
 * once per content (their tarball's sha256) and referenced from the artifact by this manifest. The artifact's own
 * sha256 covers the manifest, and the manifest pins each layer's sha256, so a checksum still guards every byte
 * that runs; a runtime on the builder's disk unpacks a layer once and links it into every release that uses it.
 */
export const LAYER_MANIFEST = '.cloudsmith/layers.json';

/**
 * Only these directories become layers: each is linked into the release at the same relative path. A venv runs
 * from there: its scripts find python through PATH (the Python provider rewrites their shebangs), and its .pyc
 * files are hash-checked (SOURCE_DATE_EPOCH at install), so the layer's fixed mtimes do not make them stale.
 */
export const LAYER_DIRS = ['node_modules', '.venv'] as const;

export const layerRefSchema = z.object({
  dir: z.enum(LAYER_DIRS),
  key: z.string().min(1).max(512),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
});
const manifestSchema = z.object({ layers: z.array(layerRefSchema).max(LAYER_DIRS.length) });

export type LayerRef = z.infer<typeof layerRefSchema>;

/**
 * The layers of a runtime on the builder's own disk (the embedded process runtime). A layer the build just packed
 * moves there as the build left it, so its first release links it at once instead of unpacking its tarball again:
 * on a cold deploy that unpacking was the platform's largest own step after the install.
 */
export interface LayerHandoff {
  /**
   * Moves `tree`, whose tarball is `layer`, in; where it is now, or undefined when it was not taken (it stays). Only
   * for a tree that holds exactly what its tarball unpacks to (scanTree found nothing unlike): a tree the unpacking
   * would refuse goes by its tarball, and is refused there.
   */
  adopt(app: string, layer: Pick<LayerRef, 'dir' | 'sha256'>, tree: string): Promise<string | undefined>;
}

/** Layers of an app live under its artifacts, so whatever lists or removes an app's artifacts covers them too. */
export function layerKey(app: string, sha256: string): string {
  return `artifacts/${app}/layers/${sha256}.tar.gz`;
}

export async function writeLayerManifest(root: string, layers: LayerRef[]): Promise<void> {
  const path = join(root, LAYER_MANIFEST);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify({ layers }, null, 2)}\n`);
}

/**
 * The layers an unpacked artifact references (none without a manifest). A reference to another app's layer is
 * refused: the manifest comes from the app's own build, and a build must not reach another app's dependencies.
 */
export async function readLayerManifest(root: string, app: string): Promise<LayerRef[]> {
  let text: string;
  try {
    text = await readFile(join(root, LAYER_MANIFEST), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UserFacingError(`the artifact's ${LAYER_MANIFEST} is not JSON`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success)
    throw new UserFacingError(`the artifact's ${LAYER_MANIFEST} is invalid: ${parsed.error.message}`);
  for (const layer of parsed.data.layers) {
    if (layer.key !== layerKey(app, layer.sha256))
      throw new UserFacingError(`the artifact's layer ${layer.key} is not one of ${app}'s layers`);
  }
  return parsed.data.layers;
}
