import { createHash } from 'node:crypto';

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

  /** `authorization` is a full header value (ECR: `Basic <token from GetAuthorizationToken>`). */
  constructor(
    readonly registry: string,
    private readonly authorization?: string,
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
    if ((await this.request('HEAD', `/${repository}/blobs/${digest}`, { accept: [404] })).status === 200) return;
    const mount = await this.request(
      'POST',
      `/${repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
    );
    if (mount.status === 201) return;
    // The registry opened an upload instead of mounting (ECR without blob mounting): copy the bytes.
    await this.finishUpload(mount, await this.blob(from, digest), digest);
  }

  async pushBlob(repository: string, data: Buffer): Promise<string> {
    const digest = sha256Digest(data);
    if ((await this.request('HEAD', `/${repository}/blobs/${digest}`, { accept: [404] })).status === 200) return digest;
    await this.finishUpload(await this.request('POST', `/${repository}/blobs/uploads/`), data, digest);
    return digest;
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

  /** One PATCH with the whole content, then the closing PUT: ECR does not take a monolithic PUT. */
  private async finishUpload(opened: Response, data: Buffer, digest: string): Promise<void> {
    const location = this.location(opened);
    const patched = await this.request('PATCH', location, {
      body: data,
      headers: {
        'content-type': 'application/octet-stream',
        'content-range': `0-${Math.max(data.length - 1, 0)}`,
      },
    });
    const closing = new URL(this.location(patched));
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
