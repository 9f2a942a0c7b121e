import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  type BucketLocationConstraint,
  type HeadObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { sha256File } from '../../../archive/checksum';
import { NotFoundError } from '../../../domain/errors';
import { assertArtifactKey, measuring, verifyingStream, writeVerified } from '../verified';
import type { ArtifactStore, StoredArtifact } from '../../../ports/artifacts';
import type { RunPlan } from '../../../domain/deployment';
import { encodePlan, PLAN_METADATA } from '../planMetadata';
import { awsClientConfig, awsErrorName, awsHttpStatus, type AwsSettings } from '../../aws/clients';

export interface S3ArtifactStoreOptions extends AwsSettings {
  bucket: string;
  /** Create the bucket on first use when it does not exist (local and test setups; Terraform owns it in production). */
  createBucket?: boolean;
  /** Multipart part size; files larger than one part go up as a multipart upload. S3's minimum part is 5 MiB. */
  partSizeBytes?: number;
}

/** Object metadata key holding the artifact's sha256, checked on every download. */
const SHA_META = 'sha256';
const DEFAULT_PART = 8 * 1024 * 1024;
/** S3's smallest multipart part. */
const MIN_PART = 5 * 1024 * 1024;
const CONTENT_TYPE = 'application/gzip';

function isMissing(err: unknown): boolean {
  const name = awsErrorName(err);
  return name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchBucket' || awsHttpStatus(err) === 404;
}

/**
 * Artifacts in S3 under the keys of ports/artifacts.ts. The sha256 travels as object metadata, so a download can be
 * verified even when the caller does not pass the checksum, and a partial or tampered object is never handed out.
 */
export class S3ArtifactStore implements ArtifactStore {
  readonly client: S3Client;
  private bucketReady?: Promise<void>;

  constructor(private readonly options: S3ArtifactStoreOptions) {
    // Path-style addressing against an endpoint override: emulators and VPC endpoints do not serve bucket subdomains.
    this.client = new S3Client({ ...awsClientConfig(options), forcePathStyle: Boolean(options.endpoint) });
  }

  get bucket(): string {
    return this.options.bucket;
  }

  async putFile(key: string, path: string, meta: { plan?: RunPlan } = {}): Promise<StoredArtifact> {
    assertArtifactKey(key);
    await this.ensureBucket();
    // A file can be hashed before it goes up, so it is uploaded once, straight to its key, with its checksum.
    const [sha256, info] = await Promise.all([sha256File(path), stat(path)]);
    await this.upload(key, createReadStream(path), this.objectMetadata(sha256, meta), info.size);
    return { key, size: info.size, sha256 };
  }

  /**
   * Uploads `body` as it arrives. Its sha256 (which S3 keeps as metadata, set when an object is created) is known
   * only at its end: a body that fits in one part is held and sent in one PUT with it; a larger one goes up as a
   * multipart upload to a staging key beside `key` (no artifact-uploaded event: not `.tar.gz`), then S3 copies it to
   * `key` with its checksum, so `key` appears complete and announced once, and the staging object is removed.
   */
  async put(key: string, body: Readable, meta: { plan?: RunPlan } = {}): Promise<StoredArtifact> {
    assertArtifactKey(key);
    const measure = measuring();
    body.on('error', (err) => measure.destroy(err));
    try {
      await this.ensureBucket();
      return await this.putMeasured(key, body.pipe(measure), meta);
    } catch (err) {
      // Whatever produces the body (tar packing a build) stops instead of waiting on a reader that is gone.
      body.destroy();
      throw err;
    }
  }

  private async putMeasured(
    key: string,
    measured: ReturnType<typeof measuring>,
    meta: { plan?: RunPlan },
  ): Promise<StoredArtifact> {
    const chunks = measured[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const first: Buffer[] = [];
    let held = 0;
    let next = await chunks.next();
    while (!next.done && held < this.partSize) {
      first.push(next.value);
      held += next.value.length;
      next = await chunks.next();
    }
    if (next.done) {
      const { size, sha256 } = measured.result();
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: Buffer.concat(first),
          ContentType: CONTENT_TYPE,
          Metadata: this.objectMetadata(sha256, meta),
        }),
      );
      return { key, size, sha256 };
    }
    const rest = next.value;
    const staging = `${key}.upload-${randomBytes(6).toString('hex')}`;
    try {
      await this.upload(
        staging,
        Readable.from(
          (async function* () {
            yield* first;
            yield rest;
            for (let more = await chunks.next(); !more.done; more = await chunks.next()) yield more.value;
          })(),
        ),
        {},
      );
      const { size, sha256 } = measured.result();
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: key,
          CopySource: `${this.bucket}/${staging}`,
          MetadataDirective: 'REPLACE',
          // The staging object's checksum covers its parts; the copy gets one of its own whole content, which the
          // SDK checks on every download (kept from the parts, it fails that check on some S3 implementations).
          ChecksumAlgorithm: 'CRC32',
          ContentType: CONTENT_TYPE,
          Metadata: this.objectMetadata(sha256, meta),
        }),
      );
      return { key, size, sha256 };
    } finally {
      await this.delete(staging).catch(() => undefined);
    }
  }

  private get partSize(): number {
    return Math.max(this.options.partSizeBytes ?? DEFAULT_PART, MIN_PART);
  }

  private objectMetadata(sha256: string, meta: { plan?: RunPlan }): Record<string, string> {
    return { [SHA_META]: sha256, ...(meta.plan ? { [PLAN_METADATA]: encodePlan(meta.plan) } : {}) };
  }

  private async upload(key: string, body: Readable, metadata: Record<string, string>, size?: number): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType: CONTENT_TYPE,
        ...(size === undefined ? {} : { ContentLength: size }),
        Metadata: metadata,
      },
      partSize: this.partSize,
      queueSize: 4,
      leavePartsOnError: false,
    });
    await upload.done();
  }

  async getFile(key: string, path: string, sha256?: string): Promise<void> {
    const { body, recorded } = await this.fetch(key);
    await writeVerified(body, path, key, sha256 ?? recorded);
  }

  async open(key: string, sha256?: string): Promise<Readable> {
    const { body, recorded } = await this.fetch(key);
    const expected = sha256 ?? recorded;
    return expected ? verifyingStream(body, key, expected) : body;
  }

  /**
   * Size and sha256 of a stored object, without downloading it when it carries the checksum metadata (objects this
   * store wrote); objects uploaded by others (a Jenkins pipeline) are hashed once by streaming them. Undefined when missing.
   */
  async describe(key: string): Promise<StoredArtifact | undefined> {
    assertArtifactKey(key);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      const recorded = head.Metadata?.[SHA_META];
      if (recorded) return { key, size: head.ContentLength ?? 0, sha256: recorded };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
    const { body } = await this.fetch(key);
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of body) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    return { key, size, sha256: hash.digest('hex') };
  }

  /** One user-metadata value of an object (a pipeline's plan, say); undefined when the object or the value is missing. */
  async metadata(key: string, name: string): Promise<string | undefined> {
    return (await this.head(key))?.Metadata?.[name];
  }

  async exists(key: string): Promise<boolean> {
    return (await this.head(key)) !== undefined;
  }

  /** The object's HEAD, or undefined when there is no such object. */
  private async head(key: string): Promise<HeadObjectCommandOutput | undefined> {
    assertArtifactKey(key);
    try {
      return await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    assertArtifactKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
  }

  private async fetch(key: string): Promise<{ body: Readable; recorded?: string }> {
    assertArtifactKey(key);
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!(res.Body instanceof Readable)) throw new Error(`S3 returned no body stream for ${key}`);
      return { body: res.Body, recorded: res.Metadata?.[SHA_META] };
    } catch (err) {
      if (isMissing(err)) throw new NotFoundError(`artifact ${key}`);
      throw err;
    }
  }

  /** Creates the bucket when configured to and it is missing; putFile calls it, others writing to the bucket may call it first. */
  ensureBucket(): Promise<void> {
    if (!this.options.createBucket) return Promise.resolve();
    this.bucketReady ??= this.createBucketIfMissing().catch((err: unknown) => {
      this.bucketReady = undefined;
      throw err;
    });
    return this.bucketReady;
  }

  private async createBucketIfMissing(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
    try {
      await this.client.send(
        new CreateBucketCommand({
          Bucket: this.bucket,
          // us-east-1 is the one region that rejects an explicit location constraint.
          CreateBucketConfiguration:
            this.options.region === 'us-east-1'
              ? undefined
              : { LocationConstraint: this.options.region as BucketLocationConstraint },
        }),
      );
    } catch (err) {
      const name = awsErrorName(err);
      if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
    }
  }
}
