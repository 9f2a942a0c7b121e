import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { GetAuthorizationTokenCommand, type ECRClient } from '@aws-sdk/client-ecr';
import type { ArtifactStore } from '../../../ports/artifacts';
import { parseImage, RegistryClient, type ImageManifest } from './registry';

/** Where the artifact sits in an app image; the runner (terraform/runner/runner.mjs) unpacks it from there. */
export const BAKED_ARTIFACT = '/opt/cloudsmith/artifact.tar.gz';

/** A ustar header; enough for the few entries of one layer. */
function tarHeader(name: string, size: number, type: '0' | '5', mode: number): Buffer {
  const h = Buffer.alloc(512);
  const field = (offset: number, length: number, value: string) => h.write(value, offset, length, 'ascii');
  const octal = (value: number, length: number) => value.toString(8).padStart(length - 1, '0') + '\0';
  field(0, 100, name);
  field(100, 8, octal(mode, 8));
  field(108, 8, octal(0, 8));
  field(116, 8, octal(0, 8));
  field(124, 12, octal(size, 12));
  // A fixed time: the same artifact gives the same layer digest.
  field(136, 12, octal(0, 12));
  field(148, 8, '        ');
  field(156, 1, type);
  field(257, 6, 'ustar\0');
  field(263, 2, '00');
  let sum = 0;
  for (const byte of h) sum += byte;
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

/** The blocks before a file of `size` bytes at `path` in a one-file tar: its parent directories, then its header. */
function headersFor(path: string, size: number): Buffer {
  const parts = path.replace(/^\//, '').split('/');
  const headers: Buffer[] = [];
  for (let i = 1; i < parts.length; i++) headers.push(tarHeader(`${parts.slice(0, i).join('/')}/`, 0, '5', 0o755));
  headers.push(tarHeader(parts.join('/'), size, '0', 0o644));
  return Buffer.concat(headers);
}

/** Counts and hashes what passes. */
function digesting(hash: Hash, counted: { bytes: number }) {
  return async function* (chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of chunks) {
      hash.update(chunk);
      counted.bytes += chunk.length;
      yield chunk;
    }
  };
}

/**
 * Writes to `dest` a gzipped layer holding the file `source` at `path` (and its parent directories), in one
 * streaming pass, and returns the digests an image names it by: the tar's (diff_id) and the gzip's.
 */
export async function writeSingleFileLayer(
  path: string,
  source: string,
  dest: string,
): Promise<{ diffId: string; digest: string; size: number }> {
  const { size } = await stat(source);
  const tar = createHash('sha256');
  const gz = createHash('sha256');
  const gzBytes = { bytes: 0 };
  await pipeline(
    (async function* () {
      yield headersFor(path, size);
      for await (const chunk of createReadStream(source)) yield chunk as Buffer;
      yield Buffer.alloc((512 - (size % 512)) % 512);
      yield Buffer.alloc(1024);
    })(),
    digesting(tar, { bytes: 0 }),
    createGzip({ level: 1 }),
    digesting(gz, gzBytes),
    createWriteStream(dest),
  );
  return { diffId: `sha256:${tar.digest('hex')}`, digest: `sha256:${gz.digest('hex')}`, size: gzBytes.bytes };
}

export interface ImageBuilderOptions {
  /** The runner image, already in the registry: the base every app image is the artifact layer on top of. */
  runnerImage: string;
  /** ECR repository the app images go to. */
  repository: string;
  /** The registry host to push to; ECR's own (from the authorization token) when unset. Tests: 127.0.0.1:5000. */
  registry?: string;
}

/**
 * Containerizes a tarball artifact without a Docker daemon: the runner image plus one layer holding the artifact,
 * pushed to ECR (GetAuthorizationToken → Basic auth on the registry API) under the commit's tag. Returns the image
 * pinned by digest, so the task definition runs exactly these bytes whatever happens to the tag later.
 * The artifact and the layer stream through scratch files, and the layer is pushed in chunks: memory stays at one
 * chunk whatever the artifact's size (the Lambda's ephemeral storage holds the two files).
 */
export class ImageBuilder {
  constructor(
    private readonly ecr: ECRClient,
    private readonly artifacts: ArtifactStore,
    private readonly options: ImageBuilderOptions,
  ) {}

  async login(): Promise<RegistryClient> {
    const res = await this.ecr.send(new GetAuthorizationTokenCommand({}));
    const data = res.authorizationData?.[0];
    if (!data?.authorizationToken) throw new Error('ECR returned no authorization token');
    const registry = this.options.registry ?? new URL(data.proxyEndpoint ?? '').host;
    return new RegistryClient(registry, `Basic ${data.authorizationToken}`);
  }

  async build(artifact: { key: string; sha256: string }, tag: string): Promise<string> {
    const registry = await this.login();
    const base = parseImage(this.options.runnerImage);
    if (base.registry !== registry.registry) {
      throw new Error(
        `the runner image ${this.options.runnerImage} must live in the app registry ${registry.registry}`,
      );
    }
    const scratch = join(tmpdir(), `cloudsmith-image-${randomBytes(6).toString('hex')}`);
    try {
      await this.artifacts.getFile(artifact.key, `${scratch}.artifact`, artifact.sha256);
      const layer = await writeSingleFileLayer(BAKED_ARTIFACT, `${scratch}.artifact`, `${scratch}.layer`);
      return await this.push(registry, base, layer, `${scratch}.layer`, artifact.key, tag);
    } finally {
      await rm(`${scratch}.artifact`, { force: true });
      await rm(`${scratch}.layer`, { force: true });
    }
  }

  /** The runner image's manifest and config with the layer added, pushed under `tag`; the layer goes up in chunks. */
  private async push(
    registry: RegistryClient,
    base: ReturnType<typeof parseImage>,
    layer: { diffId: string; digest: string; size: number },
    layerFile: string,
    artifactKey: string,
    tag: string,
  ): Promise<string> {
    const { manifest } = await registry.manifest(base.repository, base.reference);
    const config = JSON.parse((await registry.blob(base.repository, manifest.config.digest)).toString('utf8')) as {
      rootfs?: { type: string; diff_ids: string[] };
      history?: Array<Record<string, unknown>>;
    };
    const repo = this.options.repository;
    for (const l of [...manifest.layers]) await registry.ensureBlob(repo, l.digest, base.repository);
    await registry.pushBlobFile(repo, layerFile, layer.digest);
    config.rootfs = { type: 'layers', diff_ids: [...(config.rootfs?.diff_ids ?? []), layer.diffId] };
    config.history = [...(config.history ?? []), { created_by: `cloudsmith: artifact ${artifactKey}` }];
    const configBytes = Buffer.from(JSON.stringify(config));
    const configDigest = await registry.pushBlob(repo, configBytes);
    const gzipLayerType = manifest.mediaType?.includes('oci')
      ? 'application/vnd.oci.image.layer.v1.tar+gzip'
      : 'application/vnd.docker.image.rootfs.diff.tar.gzip';
    const image: ImageManifest = {
      ...manifest,
      config: { ...manifest.config, digest: configDigest, size: configBytes.length },
      layers: [...manifest.layers, { mediaType: gzipLayerType, digest: layer.digest, size: layer.size }],
    };
    const digest = await registry.pushManifest(repo, tag, image);
    return `${registry.registry}/${repo}@${digest}`;
  }
}
