import { dataPath, type Config } from '../config';
import { BuildCache } from './buildCache';

const MiB = 1024 * 1024;

/** The local builder's cache, beside its work dir in the data dir (one filesystem: restore and save are renames). */
export function buildCacheFromConfig(config: Config): BuildCache | undefined {
  const { enabled, maxAppMb, maxTotalMb } = config.buildCache;
  if (!enabled) return undefined;
  return new BuildCache({
    dir: dataPath(config, 'cache'),
    maxAppBytes: maxAppMb * MiB,
    maxTotalBytes: maxTotalMb * MiB,
  });
}
