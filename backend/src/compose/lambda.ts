import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { S3ArtifactStore } from '../adapters/artifacts/s3/s3ArtifactStore';
import { awsClientConfig } from '../adapters/aws/clients';
import type { Config } from '../config';
import type { ArtifactUploadedDeps } from '../lambda/artifact-uploaded';
import { Sealer } from '../security/sealer';
import { Cancellations } from '../services/shared/cancellations';
import { DeploymentLog } from '../services/shared/deploymentLog';
import { consoleLogger } from '../lib/logger';
import { createArtifacts, createBus, createStore } from './adapters';
import { ecsRuntimeFromConfig } from './ecs';

/**
 * The platform key: from Secrets Manager when CLOUDSMITH_SECRET_KEY_ARN names it (Terraform does, so the key never
 * sits in the Lambda's environment, where anyone allowed GetFunctionConfiguration reads it), else CLOUDSMITH_SECRET_KEY.
 */
export async function platformKey(config: Config): Promise<string> {
  if (config.secretKeyArn) {
    const client = new SecretsManagerClient(
      awsClientConfig({ region: config.aws.region, endpoint: config.aws.endpoint }),
    );
    try {
      const res = await client.send(new GetSecretValueCommand({ SecretId: config.secretKeyArn }));
      if (res.SecretString) return res.SecretString;
      throw new Error(`secret ${config.secretKeyArn} has no string value`);
    } finally {
      client.destroy();
    }
  }
  if (config.secretKey) return config.secretKey;
  throw new Error(
    'CLOUDSMITH_SECRET_KEY_ARN (or CLOUDSMITH_SECRET_KEY) is required: app env is sealed with the platform key',
  );
}

/**
 * The artifact-uploaded Lambda's wiring, from its environment (Terraform sets it): DynamoDB, S3, ECS and the bus
 * for log fan-out, chosen by the same factories as the platform. Those load every adapter on demand, so the
 * Lambda's bundle never pulls the embedded ones (better-sqlite3's native module among them).
 */
export async function artifactUploadedDeps(config: Config): Promise<ArtifactUploadedDeps> {
  if (config.store !== 'dynamodb' || config.artifacts !== 's3') {
    throw new Error('the artifact-uploaded Lambda runs with CLOUDSMITH_STORE=dynamodb and CLOUDSMITH_ARTIFACTS=s3');
  }
  const logger = consoleLogger('lambda:artifact-uploaded');
  const store = createStore(config);
  // Without Kafka the lines are still stored; only live fan-out to WebSocket clients needs the bus.
  const bus = createBus(config, logger);
  const artifacts = createArtifacts(config);
  if (!(artifacts instanceof S3ArtifactStore)) throw new Error('the Lambda reads its artifacts from S3');
  return {
    store,
    bus,
    log: new DeploymentLog(store, bus),
    logger,
    cancellations: new Cancellations(),
    runtime: ecsRuntimeFromConfig(config, artifacts),
    sealer: new Sealer(await platformKey(config)),
    artifacts,
  };
}
