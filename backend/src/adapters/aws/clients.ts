import type { Config } from '../../config';

/** What every AWS client of the platform is built from: region, an optional endpoint override (moto, LocalStack, VPC endpoints) and, rarely, fixed credentials. */
export interface AwsSettings {
  region: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export interface AwsClientConfig {
  region: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  maxAttempts: number;
}

export function isLoopback(endpoint: string): boolean {
  try {
    const host = new URL(endpoint).hostname;
    return host === '127.0.0.1' || host === 'localhost' || host === '::1' || host === '[::1]';
  } catch {
    return false;
  }
}

/**
 * Client options shared by S3, DynamoDB, ECS, ELBv2, ECR, Auto Scaling and CloudWatch Logs. Against a loopback emulator
 * with no credentials in the environment, fixed dummy credentials are used: the emulator does not check them, and
 * the SDK's default chain would otherwise fail (or, worse, pick up a developer's real profile and sign with it).
 */
export function awsClientConfig(
  settings: AwsSettings,
  env: Record<string, string | undefined> = process.env,
): AwsClientConfig {
  const config: AwsClientConfig = { region: settings.region, maxAttempts: 4 };
  if (settings.endpoint) config.endpoint = settings.endpoint;
  if (settings.credentials) config.credentials = settings.credentials;
  else if (settings.endpoint && isLoopback(settings.endpoint) && !env.AWS_ACCESS_KEY_ID) {
    config.credentials = { accessKeyId: 'cloudsmith-local', secretAccessKey: 'cloudsmith-local' };
  }
  return config;
}

export function awsSettingsFrom(config: Config): AwsSettings {
  return { region: config.aws.region, endpoint: config.aws.endpoint };
}

/** The SDK's error name (`ConditionalCheckFailedException`, `NotFound`, ...), or its HTTP status, without casting at every call site. */
export function awsErrorName(err: unknown): string {
  if (err && typeof err === 'object' && 'name' in err && typeof err.name === 'string') {
    return (err as { name: string }).name;
  }
  return '';
}

export function awsHttpStatus(err: unknown): number | undefined {
  if (err && typeof err === 'object' && '$metadata' in err) {
    const meta = (err as { $metadata?: { httpStatusCode?: number } }).$metadata;
    return meta?.httpStatusCode;
  }
  return undefined;
}
