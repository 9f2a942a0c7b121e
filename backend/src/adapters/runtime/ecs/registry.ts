import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

/**
 * A client of the OCI distribution API (what `docker push` speaks), enough to add one layer to an image that is
 * already in the registry: ECR's data plane in AWS, the local registry in tests. No Docker daemon is involved,
 * which is why a Lambda can containerize an artifact (as `crane append` does).
 */
export const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
];
const INDEX_TYPES = [
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json',
];

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture?: string; os?: string };
}
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

/** Past ECR's 5 MiB minimum for all chunks but the last, and few requests for the artifact sizes seen. */
const UPLOAD_CHUNK_BYTES = 16 * 1024 * 1024;

/** The file's content in chunks of `chunkBytes` (the last one shorter), read one at a time. */
async function* fileChunks(path: string, chunkBytes: number): AsyncGenerator<Buffer> {
  const file = await open(path, 'r');
  try {
    for (;;) {
      const chunk = Buffer.alloc(chunkBytes);
      let filled = 0;
      // A short read is not the end: only the last chunk may be short.
      for (let n = -1; n !== 0 && filled < chunkBytes; filled += n)
        n = (await file.read(chunk, filled, chunkBytes - filled, null)).bytesRead;
      if (filled > 0) yield chunk.subarray(0, filled);
      if (filled < chunkBytes) return;
    }
  } finally {
    await file.close();
  }
}

export function sha256Digest(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** `host[:port]/repo[:tag|@digest]` → its parts; the registry host must carry a dot or a port (no Docker Hub here). */
export function parseImage(image: string): { registry: string; repository: string; reference: string } {
  const slash = image.indexOf('/');
  const registry = image.slice(0, slash);
  if (slash < 0 || !/[.:]/.test(registry)) throw new Error(`image ${image} names no registry host`);
  const rest = image.slice(slash + 1);
  const at = rest.indexOf('@');
  if (at >= 0) return { registry, repository: rest.slice(0, at), reference: rest.slice(at + 1) };
  const colon = rest.lastIndexOf(':');
  return colon > 0
    ? { registry, repository: rest.slice(0, colon), reference: rest.slice(colon + 1) }
    : { registry, repository: rest, reference: 'latest' };
}

export class RegistryClient {
  private readonly base: string;

  /**
   * `authorization` is a full header value (ECR: `Basic <token from GetAuthorizationToken>`); `chunkBytes` is the
   * size of the chunks a file is pushed in (what the push holds in memory).
   */
  constructor(
    readonly registry: string,
    private readonly authorization?: string,
    private readonly chunkBytes = UPLOAD_CHUNK_BYTES,
  ) {
    // Loopback registries (tests, a local mirror) speak plain HTTP, as docker allows for them.
    const host = registry.replace(/:\d+$/, '');
    const plain = host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
    this.base = `${plain ? 'http' : 'https'}://${registry}/v2`;
  }

  /** The single-platform manifest of `reference` (linux/amd64 out of an index), with its own digest. */
  async manifest(repository: string, reference: string): Promise<{ manifest: ImageManifest; digest: string }> {
    const res = await this.request('GET', `/${repository}/manifests/${reference}`, {
      headers: { accept: [...MANIFEST_TYPES, ...INDEX_TYPES].join(', ') },
    });
    const body = Buffer.from(await res.arrayBuffer());
    const parsed = JSON.parse(body.toString('utf8')) as ImageManifest & { manifests?: Descriptor[] };
    const type = parsed.mediaType ?? res.headers.get('content-type') ?? '';
    if (INDEX_TYPES.includes(type) || parsed.manifests) {
      const chosen =
        parsed.manifests?.find((m) => m.platform?.os === 'linux' && m.platform.architecture === 'amd64') ??
        parsed.manifests?.[0];
      if (!chosen) throw new Error(`${repository}:${reference} is an empty image index`);
      return this.manifest(repository, chosen.digest);
    }
    return { manifest: { ...parsed, mediaType: type }, digest: sha256Digest(body) };
  }

  async blob(repository: string, digest: string): Promise<Buffer> {
    const res = await this.request('GET', `/${repository}/blobs/${digest}`);
    const data = Buffer.from(await res.arrayBuffer());
    if (sha256Digest(data) !== digest) throw new Error(`blob ${digest} of ${repository} does not match its digest`);
    return data;
  }

  /** Makes `digest` present in `repository`: already there, mounted from `from` (no copy), or copied. */
  async ensureBlob(repository: string, digest: string, from: string): Promise<void> {
    if (await this.hasBlob(repository, digest)) return;
    const mount = await this.request(
      'POST',
      `/${repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
    );
    if (mount.status === 201) return;
    // The registry opened an upload instead of mounting (ECR without blob mounting): copy the bytes.
    await this.finishUpload(mount, [await this.blob(from, digest)], digest);
  }

  async pushBlob(repository: string, data: Buffer): Promise<string> {
    const digest = sha256Digest(data);
    if (await this.hasBlob(repository, digest)) return digest;
    await this.finishUpload(await this.request('POST', `/${repository}/blobs/uploads/`), [data], digest);
    return digest;
  }

  /** Pushes the file at `path`, whose content the caller hashed to `digest`, one chunk in memory at a time. */
  async pushBlobFile(repository: string, path: string, digest: string): Promise<void> {
    if (await this.hasBlob(repository, digest)) return;
    await this.finishUpload(
      await this.request('POST', `/${repository}/blobs/uploads/`),
      fileChunks(path, this.chunkBytes),
      digest,
    );
  }

  private async hasBlob(repository: string, digest: string): Promise<boolean> {
    return (await this.request('HEAD', `/${repository}/blobs/${digest}`, { accept: [404] })).status === 200;
  }

  /** Stores the manifest under `tag`; returns its digest, which is what a task definition pins. */
  async pushManifest(repository: string, tag: string, manifest: ImageManifest): Promise<string> {
    const body = Buffer.from(JSON.stringify(manifest));
    await this.request('PUT', `/${repository}/manifests/${tag}`, {
      body,
      headers: { 'content-type': manifest.mediaType ?? MANIFEST_TYPES[0] },
    });
    return sha256Digest(body);
  }

  /**
   * A PATCH per chunk, each at its offset (Content-Range), then the closing PUT with the digest: ECR takes no
   * monolithic PUT, and wants every chunk but the last to be at least 5 MiB.
   */
  private async finishUpload(
    opened: Response,
    chunks: Iterable<Buffer> | AsyncIterable<Buffer>,
    digest: string,
  ): Promise<void> {
    let location = this.location(opened);
    let offset = 0;
    for await (const chunk of chunks) {
      if (chunk.length === 0) continue;
      const patched = await this.request('PATCH', location, {
        body: chunk,
        headers: {
          'content-type': 'application/octet-stream',
          'content-range': `${offset}-${offset + chunk.length - 1}`,
        },
      });
      offset += chunk.length;
      location = this.location(patched);
    }
    const closing = new URL(location);
    closing.searchParams.set('digest', digest);
    await this.request('PUT', closing.toString(), { body: Buffer.alloc(0) });
  }

  private location(res: Response): string {
    const location = res.headers.get('location');
    if (!location) throw new Error(`registry ${this.registry} answered an upload without a Location`);
    return new URL(location, `${this.base}/`).toString();
  }

  private async request(
    method: string,
    path: string,
    opts: { body?: Buffer; headers?: Record<string, string>; accept?: number[] } = {},
  ): Promise<Response> {
    const url = path.startsWith('http') ? path : `${this.base}${path}`;
    const headers: Record<string, string> = { ...opts.headers };
    if (this.authorization) headers.authorization = this.authorization;
    const body = opts.body ? new Uint8Array(opts.body) : undefined;
    const res = await fetch(url, { method, headers, body, redirect: 'follow' });
    if (!res.ok && !opts.accept?.includes(res.status)) {
      const text = await res.text().catch(() => '');
      throw new Error(
        `registry ${this.registry}: ${method} ${new URL(url).pathname} → ${res.status} ${text.slice(0, 200)}`,
      );
    }
    return res;
  }
}
