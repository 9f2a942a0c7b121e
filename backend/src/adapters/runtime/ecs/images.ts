import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { GetAuthorizationTokenCommand, type ECRClient } from '@aws-sdk/client-ecr';
import type { ArtifactStore } from '../../../ports/artifacts';
import { parseImage, RegistryClient, sha256Digest, type ImageManifest } from './registry';

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

/** A layer holding one file at `path` (and its parent directories), as an uncompressed tar. */
export function singleFileLayer(path: string, content: Buffer): Buffer {
  const parts = path.replace(/^\//, '').split('/');
  const entries: Buffer[] = [];
  for (let i = 1; i < parts.length; i++) entries.push(tarHeader(`${parts.slice(0, i).join('/')}/`, 0, '5', 0o755));
  entries.push(tarHeader(parts.join('/'), content.length, '0', 0o644), content);
  entries.push(Buffer.alloc((512 - (content.length % 512)) % 512), Buffer.alloc(1024));
  return Buffer.concat(entries);
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
 * The artifact is held in memory while the layer is made: the Lambda's memory setting bounds the artifact size.
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
    const scratch = join(tmpdir(), `cloudsmith-image-${randomBytes(6).toString('hex')}.tar.gz`);
    let content: Buffer;
    try {
      await this.artifacts.getFile(artifact.key, scratch, artifact.sha256);
      content = await readFile(scratch);
    } finally {
      await rm(scratch, { force: true });
    }
    const tar = singleFileLayer(BAKED_ARTIFACT, content);
    const layer = gzipSync(tar, { level: 1 });
    const { manifest } = await registry.manifest(base.repository, base.reference);
    const config = JSON.parse((await registry.blob(base.repository, manifest.config.digest)).toString('utf8')) as {
      rootfs?: { type: string; diff_ids: string[] };
      history?: Array<Record<string, unknown>>;
    };
    const repo = this.options.repository;
    for (const l of [...manifest.layers]) await registry.ensureBlob(repo, l.digest, base.repository);
    const layerDigest = await registry.pushBlob(repo, layer);
    config.rootfs = { type: 'layers', diff_ids: [...(config.rootfs?.diff_ids ?? []), sha256Digest(tar)] };
    config.history = [...(config.history ?? []), { created_by: `cloudsmith: artifact ${artifact.key}` }];
    const configBytes = Buffer.from(JSON.stringify(config));
    const configDigest = await registry.pushBlob(repo, configBytes);
    const gzipLayerType = manifest.mediaType?.includes('oci')
      ? 'application/vnd.oci.image.layer.v1.tar+gzip'
      : 'application/vnd.docker.image.rootfs.diff.tar.gzip';
    const image: ImageManifest = {
      ...manifest,
      config: { ...manifest.config, digest: configDigest, size: configBytes.length },
      layers: [...manifest.layers, { mediaType: gzipLayerType, digest: layerDigest, size: layer.length }],
    };
    const digest = await registry.pushManifest(repo, tag, image);
    return `${registry.registry}/${repo}@${digest}`;
  }
}
