import { join } from 'node:path';
import { dataPath, type Config } from '../config';
import type { ArtifactStore } from '../ports/artifacts';
import { BuildCache } from './buildCache';
import { SharedCacheTier } from './sharedTier';

const MiB = 1024 * 1024;

/**
 * The local builder's cache, beside its work dir in the data dir (one filesystem: restore and save are renames).
 * With artifacts in S3 the builder is one of several Buildrelay replicas on disks that come and go, so each app's
 * cache is also kept in the bucket (`cache/<app>/`, expired by the bucket's lifecycle rule).
 */
export function buildCacheFromConfig(config: Config, artifacts: ArtifactStore, salt: Buffer): BuildCache | undefined {
  const { enabled, maxAppMb, maxTotalMb } = config.buildCache;
  if (!enabled) return undefined;
  const dir = dataPath(config, 'cache');
  return new BuildCache({
    dir,
    maxAppBytes: maxAppMb * MiB,
    maxTotalBytes: maxTotalMb * MiB,
    salt,
    shared: config.artifacts === 's3' ? new SharedCacheTier(artifacts, join(dir, 'tmp')) : undefined,
  });
}
