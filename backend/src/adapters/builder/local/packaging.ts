import { randomBytes } from 'node:crypto';
import { copyFile, cp, lstat, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { sha256File } from '../../../archive/checksum';
import {
  LAYER_DIRS,
  layerKey,
  layerRefSchema,
  writeLayerManifest,
  type LayerHandoff,
  type LayerRef,
} from '../../../archive/layers';
import { scanTree } from '../../../archive/treeFingerprint';
import type { MovedAway } from '../../../cache/buildCache';
import { packDir, packStream } from '../../../archive/tarball';
import { resolveOutputDir, type BuildPlan } from '../../../detect/plan';
import { artifactKey, type ArtifactStore } from '../../../ports/artifacts';
import type { BuildContext, BuildJob, BuildResult } from '../../../ports/builder';
import { assertWithin } from '../../../sandbox/paths';
import {
  excludesBeside,
  isStaticPlan,
  runPlanFor,
  shippedPaths,
  SITE_DIR,
  STATIC_SERVER_PATH,
  staticServerSource,
} from '../artifactLayout';

export interface PackagingOptions {
  artifacts: ArtifactStore;
  /** Scratch space for the tarball and the static staging tree. */
  workDir: string;
  /**
   * Ships node_modules and .venv as content-addressed layers beside the artifact (see archive/layers.ts). Only for a
   * runtime that links layers (the process runtime); an image builder (ECS) needs the whole tree in one tarball.
   */
  dependencyLayers?: boolean;
  /** The runtime's layers on this disk, when it has them there: a newly packed layer's tree moves in as built. */
  layerHandoff?: LayerHandoff;
}

export interface Packaged {
  result: BuildResult;
  /** Dependency dirs that left the build's tree for the runtime's layers, as the build cache takes them. */
  handedOff: MovedAway[];
}

const MiB = 1024 * 1024;

/** Build caches inside the tree that nothing needs at run time (Next.js makes its own again when it serves). */
const BUILD_ONLY = ['.next/cache'];

/**
 * Packs a finished build into its artifact and stores it: Node and Next.js apps ship their whole rootDir
 * (node_modules included) unless their output runs on its own (shippedPaths: a Next.js standalone server); static
 * sites and SPAs ship only their output plus the platform's static server.
 */
export async function packageAndStore(
  opts: PackagingOptions,
  job: BuildJob,
  ctx: BuildContext,
  plan: BuildPlan,
  root: string,
  /** The dependency dirs came back from the build cache and no install ran: they may be as packed before. */
  dependenciesRestored: boolean,
): Promise<Packaged> {
  await mkdir(opts.workDir, { recursive: true });
  const scratch = join(opts.workDir, `package-${basename(job.deploymentId)}-${randomBytes(4).toString('hex')}`);
  await mkdir(scratch, { recursive: true });
  try {
    // Packed straight into the store as tar writes it: no tarball file, no copy, hashed on the way.
    let body: Readable;
    const handedOff: MovedAway[] = [];
    const runPlan = runPlanFor(plan);
    const shipped = shippedPaths(plan);
    if (shipped) {
      body = packStream(root, { exclude: await excludesBeside(root, shipped) });
      ctx.log(
        `Shipping only ${shipped.join(', ')}: the build's output runs on its own, without the root's node_modules`,
      );
    } else if (!isStaticPlan(plan)) {
      const layers = opts.dependencyLayers
        ? await storeLayers(opts, job, ctx, root, scratch, handedOff, dependenciesRestored)
        : [];
      if (layers.length) await writeLayerManifest(root, layers);
      body = packStream(root, { exclude: [...layers.map((l) => l.dir), ...BUILD_ONLY] });
    } else {
      const outputDir = resolveOutputDir(root, plan);
      await assertWithin(root, join(root, outputDir), `outputDir "${outputDir}"`);
      const staging = join(scratch, 'staging');
      await cp(join(root, outputDir), join(staging, SITE_DIR), {
        recursive: true,
        verbatimSymlinks: true,
        // Serving the repo as is (outputDir ".") must not ship its git metadata or installed packages.
        filter: (src) => !['.git', 'node_modules'].includes(basename(src)) || src === join(root, outputDir),
      });
      await mkdir(join(staging, dirname(STATIC_SERVER_PATH)), { recursive: true });
      await copyFile(staticServerSource(), join(staging, STATIC_SERVER_PATH));
      body = packStream(staging);
      ctx.log(
        `Serving ${outputDir === '.' ? 'the site' : `${outputDir}/`} as static files${runPlan.spaFallback ? ' with SPA fallback to index.html' : ''}`,
      );
    }
    const key = artifactKey(job.app, job.commitSha, job.deploymentId);
    const stored = await opts.artifacts.put(key, body, { plan: runPlan });
    ctx.log(`Artifact ${key} (${(stored.size / MiB).toFixed(1)} MiB, sha256 ${stored.sha256.slice(0, 12)})`);
    return {
      result: { artifact: { kind: 'tarball', key, sha256: stored.sha256, size: stored.size }, plan: runPlan },
      handedOff,
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The layer a tree with this fingerprint was packed into before (the index is the builder's, outside any build). */
async function readIndexed(index: string): Promise<LayerRef | undefined> {
  const text = await readFile(index, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return layerRefSchema.parse(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/**
 * Packs each dependency directory of the build reproducibly and stores it under its sha256 unless the store has it
 * already: an unchanged lockfile (and postinstall output) gives the same bytes, so redeploys reuse one layer. A tree
 * whose fingerprint was packed before (restored untouched from the build cache) is not even packed again.
 */
async function storeLayers(
  opts: PackagingOptions,
  job: BuildJob,
  ctx: BuildContext,
  root: string,
  scratch: string,
  handedOff: MovedAway[],
  restored: boolean,
): Promise<LayerRef[]> {
  const layers: LayerRef[] = [];
  for (const dir of LAYER_DIRS) {
    const tree = join(root, dir);
    const info = await lstat(tree).catch(() => undefined);
    if (!info?.isDirectory()) continue;
    const file = join(scratch, `layer-${dir}.tar.gz`);
    // A fresh install cannot fingerprint as a packed tree did (its directories are new): packing starts beside the scan.
    const packing = restored ? undefined : packDir(tree, file, { reproducible: true });
    packing?.catch(() => undefined);
    const scan = await scanTree(tree);
    const index = join(opts.workDir, 'layer-index', job.app, `${dir}-${scan.fingerprint}.json`);
    const known = await readIndexed(index);
    if (
      known?.dir === dir &&
      known.key === layerKey(job.app, known.sha256) &&
      (await opts.artifacts.exists(known.key))
    ) {
      await packing?.catch(() => undefined);
      ctx.log(
        `Dependency layer ${dir} (${(known.size / MiB).toFixed(1)} MiB, sha256 ${known.sha256.slice(0, 12)}): tree unchanged, reused without packing`,
      );
      layers.push(known);
      continue;
    }
    await (packing ?? packDir(tree, file, { reproducible: true }));
    const sha256 = await sha256File(file);
    const key = layerKey(job.app, sha256);
    const reused = await opts.artifacts.exists(key);
    const size = reused ? (await stat(file)).size : (await opts.artifacts.putFile(key, file)).size;
    const layer: LayerRef = { dir, key, sha256, size };
    await mkdir(dirname(index), { recursive: true });
    await writeFile(index, JSON.stringify(layer));
    layers.push(layer);
    // Last: the tree leaves the build here, and nothing above may read it after.
    const handed = scan.unlikeArchive === undefined && (await opts.layerHandoff?.adopt(job.app, layer, tree));
    if (handed) handedOff.push({ path: dir, now: handed, bytes: scan.bytes });
    ctx.log(
      `Dependency layer ${dir} (${(size / MiB).toFixed(1)} MiB, sha256 ${sha256.slice(0, 12)}): ${reused ? 'unchanged, reused' : 'stored'}${handed ? '; its tree goes to the runtime on this disk as built, not unpacked again' : ''}`,
    );
  }
  return layers;
}
