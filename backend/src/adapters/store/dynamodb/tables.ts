/**
 * The DynamoDB tables DynamoStore uses, as plain data: `init()` creates them from this, and terraform/test checks
 * that terraform/dynamodb.tf declares exactly the same keys and indexes, so the two cannot drift apart.
 */
export type TableId = 'apps' | 'deployments' | 'logs' | 'env' | 'processed';

export interface KeyAttr {
  name: string;
  type: 'S' | 'N';
}

export interface IndexSpec {
  name: string;
  hash: KeyAttr;
  range?: KeyAttr;
}

export interface TableSpec {
  id: TableId;
  /** Name without the configured prefix. */
  suffix: string;
  hash: KeyAttr;
  range?: KeyAttr;
  indexes: IndexSpec[];
  /** Attribute DynamoDB's TTL deletes expired items by. */
  ttlAttribute?: string;
}

export const INDEX = {
  appsByOwner: 'byOwner',
  /** Sparse: only apps with a live release carry `liveDeploymentId`, so scanning it reads just those. */
  appsLive: 'live',
  deploymentsByOwner: 'byOwner',
  deploymentsByRepo: 'byRepo',
  deploymentsByApp: 'byApp',
} as const;

const S = (name: string): KeyAttr => ({ name, type: 'S' });
const N = (name: string): KeyAttr => ({ name, type: 'N' });

export const TABLES: readonly TableSpec[] = [
  {
    id: 'apps',
    suffix: 'apps',
    hash: S('name'),
    indexes: [
      { name: INDEX.appsByOwner, hash: S('ownerId'), range: S('createdAt') },
      { name: INDEX.appsLive, hash: S('liveDeploymentId') },
    ],
  },
  {
    id: 'deployments',
    suffix: 'deployments',
    hash: S('id'),
    indexes: [
      { name: INDEX.deploymentsByOwner, hash: S('ownerId'), range: S('createdAt') },
      { name: INDEX.deploymentsByRepo, hash: S('repo'), range: S('createdAt') },
      { name: INDEX.deploymentsByApp, hash: S('app'), range: S('createdAt') },
    ],
  },
  // One item per chunk of lines; the range key is the chunk's LAST seq, so `seq > since` finds every chunk holding a newer
  // line. The head item at seq 0 holds the counter that hands out seq numbers.
  { id: 'logs', suffix: 'logs', hash: S('deploymentId'), range: N('seq'), indexes: [] },
  { id: 'env', suffix: 'env', hash: S('app'), indexes: [] },
  {
    id: 'processed',
    suffix: 'processed',
    hash: S('consumer'),
    range: S('eventId'),
    indexes: [],
    ttlAttribute: 'expiresAt',
  },
];

export function tableName(prefix: string, id: TableId): string {
  const spec = TABLES.find((t) => t.id === id);
  if (!spec) throw new Error(`unknown table ${id}`);
  return `${prefix}${spec.suffix}`;
}
