// Long on purpose: one adapter of the whole Store port (apps, name claims, deployments, logs, env, processed
// events) whose conditional writes share the table and SET-clause helpers; the store contract suite tests it whole.
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  type AttributeDefinition,
  type CreateTableCommandInput,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { allowedPredecessors, IN_FLIGHT_STATUSES } from '../../../domain/deployment';
import type { App, Deployment, DeploymentStatus, LogLine } from '../../../domain/deployment';
import type { DeploymentPatch, DeploymentQuery, NewLogLine, Store } from '../../../ports/store';
import { awsClientConfig, awsErrorName, type AwsSettings } from '../../aws/clients';
import { chunkLines } from '../logChunks';
import { runtimeLineBytes, type NewRuntimeLogLine, type RuntimeLogLine } from '../../../domain/runtimeLog';
import { INDEX, TABLES, tableName, type KeyAttr, type TableId, type TableSpec } from './tables';

export interface DynamoStoreOptions extends AwsSettings {
  /** Prepended to every table name (one platform per prefix; tests use a fresh prefix each run). */
  tablePrefix: string;
  /** Create missing tables in init() (local and test setups; Terraform creates them in production). Default true. */
  createTables?: boolean;
  /** How long an idempotency record is kept before DynamoDB's TTL removes it. */
  processedTtlSeconds?: number;
}

type Item = Record<string, unknown>;

/**
 * The counter that hands out log seq numbers: an attribute of the head item (seq 0) of the deployment's log partition.
 * Logs may arrive for an id the store has no deployment record for (the contract allows it), so the counter cannot
 * live on the deployment item without creating bare deployment items.
 */
const LOG_SEQ_ATTR = 'next';
const HEAD_SEQ = 0;
/** Name claims share the apps table; app names are DNS labels, so this prefix can never be an app's own name. */
const NAME_CLAIM = 'claim#';
/** An app's runtime log shares the logs table under this key; deployment ids are UUIDs, so no deployment's log can clash. */
const runtimeLogKey = (app: string): string => `runtime#${app}`;
const IMMUTABLE = new Set(['id', 'status', 'createdAt', 'ownerId']);

function isConditionFailure(err: unknown): boolean {
  return awsErrorName(err) === 'ConditionalCheckFailedException';
}

function attrDefs(spec: TableSpec): AttributeDefinition[] {
  const seen = new Map<string, KeyAttr['type']>();
  const add = (a?: KeyAttr): void => {
    if (a) seen.set(a.name, a.type);
  };
  add(spec.hash);
  add(spec.range);
  for (const idx of spec.indexes) {
    add(idx.hash);
    add(idx.range);
  }
  return [...seen].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType }));
}

function keySchema(hash: KeyAttr, range?: KeyAttr): KeySchemaElement[] {
  const schema: KeySchemaElement[] = [{ AttributeName: hash.name, KeyType: 'HASH' }];
  if (range) schema.push({ AttributeName: range.name, KeyType: 'RANGE' });
  return schema;
}

/**
 * Builds `SET #f0 = :v0, ...` from a patch, skipping undefined values and fields only dedicated calls may change.
 * Timings merge key by key (each stage reports its own), everything else is replaced.
 */
function setClause(patch: Item, names: Record<string, string>, values: Record<string, unknown>): string[] {
  const parts: string[] = [];
  let i = 0;
  const set = (path: string[], value: unknown): void => {
    const refs = path.map((p, j) => {
      names[`#f${i}_${j}`] = p;
      return `#f${i}_${j}`;
    });
    values[`:v${i}`] = value;
    parts.push(`${refs.join('.')} = :v${i}`);
    i++;
  };
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined || IMMUTABLE.has(field)) continue;
    if (field === 'timings' && value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) if (v !== undefined) set([field, k], v);
    } else {
      set([field], value);
    }
  }
  return parts;
}

/**
 * Platform state on DynamoDB. Status changes are conditional UpdateItems (`#status IN (allowed predecessors)`), so a
 * late or redelivered event can never move a deployment backwards; log seq numbers come from an atomic counter on
 * the deployment item; idempotency records are conditional puts.
 */
export class DynamoStore implements Store {
  readonly client: DynamoDBClient;
  private readonly doc: DynamoDBDocumentClient;

  constructor(private readonly options: DynamoStoreOptions) {
    this.client = new DynamoDBClient(awsClientConfig(options));
    this.doc = DynamoDBDocumentClient.from(this.client, {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    });
  }

  table(id: TableId): string {
    return tableName(this.options.tablePrefix, id);
  }

  async init(): Promise<void> {
    if (this.options.createTables === false) return;
    await Promise.all(TABLES.map((spec) => this.ensureTable(spec)));
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  // ---- apps

  async putApp(app: App): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table('apps'), Item: { ...app } }));
  }

  async getApp(name: string): Promise<App | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table('apps'), Key: { name }, ConsistentRead: true }),
    );
    return res.Item as App | undefined;
  }

  async listApps(ownerId: string): Promise<App[]> {
    const items = await this.queryAll({
      TableName: this.table('apps'),
      IndexName: INDEX.appsByOwner,
      KeyConditionExpression: 'ownerId = :o',
      ExpressionAttributeValues: { ':o': ownerId },
    });
    return items.map((i) => i as unknown as App).sort((a, b) => a.name.localeCompare(b.name));
  }

  async listLiveApps(): Promise<App[]> {
    const out: App[] = [];
    let start: Item | undefined;
    do {
      const res = await this.doc.send(
        new ScanCommand({ TableName: this.table('apps'), IndexName: INDEX.appsLive, ExclusiveStartKey: start }),
      );
      out.push(...((res.Items ?? []) as App[]));
      start = res.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async claimAppName(name: string, ownerId: string, repo: string): Promise<boolean> {
    // The claim lives in the apps table under its own key, outside both indexes (no ownerId, no liveDeploymentId).
    const Key = { name: `${NAME_CLAIM}${name}` };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table('apps'),
          Item: { ...Key, claimOwner: ownerId, claimRepo: repo },
          ConditionExpression: 'attribute_not_exists(#n)',
          ExpressionAttributeNames: { '#n': 'name' },
        }),
      );
      return true;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    const res = await this.doc.send(new GetCommand({ TableName: this.table('apps'), Key, ConsistentRead: true }));
    const holder = res.Item as { claimOwner?: string; claimRepo?: string } | undefined;
    return holder?.claimOwner === ownerId && holder.claimRepo?.toLowerCase() === repo.toLowerCase();
  }

  async deleteApp(name: string): Promise<void> {
    await Promise.all([
      this.doc.send(new DeleteCommand({ TableName: this.table('apps'), Key: { name } })),
      this.doc.send(new DeleteCommand({ TableName: this.table('env'), Key: { app: name } })),
    ]);
  }

  // ---- deployments

  async createDeployment(deployment: Deployment): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table('deployments'),
        Item: { ...deployment },
        ConditionExpression: 'attribute_not_exists(id)',
      }),
    );
  }

  async getDeployment(id: string): Promise<Deployment | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table('deployments'), Key: { id }, ConsistentRead: true }),
    );
    return res.Item as Deployment | undefined;
  }

  async listDeployments(query: DeploymentQuery): Promise<Deployment[]> {
    const limit = query.limit ?? 50;
    const values: Record<string, unknown> = {};
    const filters: string[] = [];
    let index: string;
    let keyCondition: string;
    // The most selective key available drives the query; the other criteria become filters.
    if (query.app) {
      index = INDEX.deploymentsByApp;
      keyCondition = 'app = :app';
      values[':app'] = query.app;
      filters.push('ownerId = :o');
      values[':o'] = query.ownerId;
      if (query.repo) {
        filters.push('repo = :r');
        values[':r'] = query.repo;
      }
    } else if (query.repo) {
      index = INDEX.deploymentsByRepo;
      keyCondition = 'repo = :r';
      values[':r'] = query.repo;
      filters.push('ownerId = :o');
      values[':o'] = query.ownerId;
    } else {
      index = INDEX.deploymentsByOwner;
      keyCondition = 'ownerId = :o';
      values[':o'] = query.ownerId;
    }
    const items = await this.queryAll(
      {
        TableName: this.table('deployments'),
        IndexName: index,
        KeyConditionExpression: keyCondition,
        FilterExpression: filters.length ? filters.join(' AND ') : undefined,
        ExpressionAttributeValues: values,
        ScanIndexForward: false,
      },
      limit,
    );
    // Same-millisecond creations keep a stable newest-first order by id as the tie-breaker.
    return items
      .map((i) => i as unknown as Deployment)
      .sort((a, b) => (a.createdAt === b.createdAt ? b.id.localeCompare(a.id) : b.createdAt.localeCompare(a.createdAt)))
      .slice(0, limit);
  }

  async listInFlight(): Promise<Deployment[]> {
    // Only read at boot, to fail deployments interrupted by a crash: a filtered scan is cheaper than an index kept for it.
    const out: Deployment[] = [];
    const values: Record<string, string> = {};
    IN_FLIGHT_STATUSES.forEach((s, i) => (values[`:s${i}`] = s));
    let start: Item | undefined;
    do {
      const res = await this.doc.send(
        new ScanCommand({
          TableName: this.table('deployments'),
          FilterExpression: `#status IN (${Object.keys(values).join(', ')})`,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: values,
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      for (const item of res.Items ?? []) out.push(item as unknown as Deployment);
      start = res.LastEvaluatedKey;
    } while (start);
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async transition(id: string, to: DeploymentStatus, patch: DeploymentPatch = {}): Promise<Deployment | undefined> {
    const allowed = allowedPredecessors(to);
    if (allowed.length === 0) return undefined;
    const values: Record<string, unknown> = { ':to': to };
    allowed.forEach((s, i) => (values[`:p${i}`] = s));
    return this.updateIf(id, patch, {
      set: '#status = :to',
      condition: `#status IN (${allowed.map((_, i) => `:p${i}`).join(', ')})`,
      names: { '#status': 'status' },
      values,
    });
  }

  updateDeployment(id: string, patch: DeploymentPatch): Promise<Deployment | undefined> {
    return this.updateIf(id, patch, {});
  }

  /** One conditional UpdateItem on an existing deployment; undefined when the condition (or existence) fails. */
  private async updateIf(
    id: string,
    patch: DeploymentPatch,
    extra: { set?: string; condition?: string; names?: Record<string, string>; values?: Record<string, unknown> },
  ): Promise<Deployment | undefined> {
    const names: Record<string, string> = { '#updatedAt': 'updatedAt', ...extra.names };
    const values: Record<string, unknown> = { ':now': new Date().toISOString(), ...extra.values };
    const sets = [
      ...(extra.set ? [extra.set] : []),
      '#updatedAt = :now',
      ...setClause({ ...patch, updatedAt: undefined }, names, values),
    ];
    try {
      const res = await this.doc.send(
        new UpdateCommand({
          TableName: this.table('deployments'),
          Key: { id },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: extra.condition ? `attribute_exists(id) AND ${extra.condition}` : 'attribute_exists(id)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return res.Attributes as Deployment | undefined;
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  }

  // ---- logs

  async appendLogs(deploymentId: string, lines: NewLogLine[]): Promise<LogLine[]> {
    if (lines.length === 0) return [];
    const last = await this.reserveSeq(deploymentId, lines.length);
    const first = last - lines.length + 1;
    const numbered: LogLine[] = lines.map((l, i) => ({ seq: first + i, ts: l.ts, stage: l.stage, text: l.text }));
    const items = chunkLines(numbered).map((group) => ({
      deploymentId,
      seq: group[group.length - 1].seq,
      first: group[0].seq,
      lines: group,
    }));
    await this.batchWrite(items.map((Item) => ({ PutRequest: { Item } })));
    return numbered;
  }

  async readLogs(deploymentId: string, sinceSeq: number, limit = 10_000): Promise<LogLine[]> {
    const out: LogLine[] = [];
    let start: Item | undefined;
    do {
      const res = await this.doc.send(
        new QueryCommand({
          TableName: this.table('logs'),
          KeyConditionExpression: 'deploymentId = :d AND seq > :since',
          ExpressionAttributeValues: { ':d': deploymentId, ':since': Math.max(sinceSeq, HEAD_SEQ) },
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      for (const item of res.Items ?? []) {
        for (const line of item.lines as LogLine[]) {
          if (line.seq > sinceSeq && out.length < limit) out.push(line);
        }
      }
      start = res.LastEvaluatedKey;
    } while (start && out.length < limit);
    return out;
  }

  async deleteLogs(deploymentId: string): Promise<void> {
    // The head item stays: it hands out seq numbers, and they must not start again from 1.
    const chunks = await this.queryAll({
      TableName: this.table('logs'),
      KeyConditionExpression: 'deploymentId = :d AND seq > :head',
      ExpressionAttributeValues: { ':d': deploymentId, ':head': HEAD_SEQ },
      ProjectionExpression: 'deploymentId, seq',
    });
    await this.batchWrite(chunks.map((Key) => ({ DeleteRequest: { Key } })));
  }

  // ---- runtime logs: an app's partition in the logs table, chunked the same way, with a running byte count

  async appendRuntimeLogs(app: string, lines: NewRuntimeLogLine[], keepBytes: number): Promise<RuntimeLogLine[]> {
    if (lines.length === 0) return [];
    const key = runtimeLogKey(app);
    const bytes = lines.map(runtimeLineBytes);
    const total = bytes.reduce((a, b) => a + b, 0);
    const head = await this.reserveSeq(key, lines.length, total);
    const first = head.seq - lines.length + 1;
    const numbered: RuntimeLogLine[] = lines.map((l, i) => ({ seq: first + i, ...l }));
    let end = head.bytes - total;
    const items = chunkLines(numbered).map((group) => {
      const size = group.reduce((sum, l) => sum + runtimeLineBytes(l), 0);
      end += size;
      return {
        deploymentId: key,
        seq: group[group.length - 1].seq,
        first: group[0].seq,
        bytes: size,
        end,
        lines: group,
      };
    });
    await this.batchWrite(items.map((Item) => ({ PutRequest: { Item } })));
    await this.trimRuntimeLog(key, head.bytes - keepBytes);
    return numbered;
  }

  async readRuntimeLogs(app: string, sinceSeq: number, limit = 10_000): Promise<RuntimeLogLine[]> {
    const out: RuntimeLogLine[] = [];
    for (const item of await this.queryAll(
      {
        TableName: this.table('logs'),
        KeyConditionExpression: 'deploymentId = :d AND seq > :since',
        ExpressionAttributeValues: { ':d': runtimeLogKey(app), ':since': Math.max(sinceSeq, HEAD_SEQ) },
        ConsistentRead: true,
      },
      limit,
    )) {
      for (const line of item.lines as RuntimeLogLine[]) if (line.seq > sinceSeq && out.length < limit) out.push(line);
    }
    return out;
  }

  async deleteRuntimeLogs(app: string): Promise<void> {
    await this.trimRuntimeLog(runtimeLogKey(app), Infinity);
  }

  /** Deletes the oldest chunks while any of their bytes lie before `cutoff` (the head item, holding the counters, stays). */
  private async trimRuntimeLog(key: string, cutoff: number): Promise<void> {
    for (;;) {
      const res = await this.doc.send(
        new QueryCommand({
          TableName: this.table('logs'),
          KeyConditionExpression: 'deploymentId = :d AND seq > :head',
          ExpressionAttributeValues: { ':d': key, ':head': HEAD_SEQ },
          ExpressionAttributeNames: { '#end': 'end' },
          ProjectionExpression: 'deploymentId, seq, bytes, #end',
          Limit: 25,
          ConsistentRead: true,
        }),
      );
      const chunks = res.Items ?? [];
      const old = chunks.filter((c) => Number(c.end) - Number(c.bytes) < cutoff);
      await this.batchWrite(old.map((c) => ({ DeleteRequest: { Key: { deploymentId: key, seq: Number(c.seq) } } })));
      if (old.length < chunks.length || !res.LastEvaluatedKey) return;
    }
  }

  // ---- env

  async getEnv(app: string): Promise<Record<string, string>> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table('env'), Key: { app }, ConsistentRead: true }),
    );
    return { ...((res.Item?.vars as Record<string, string> | undefined) ?? {}) };
  }

  async putEnv(app: string, sealed: Record<string, string>): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table('env'), Item: { app, vars: { ...sealed } } }));
  }

  /**
   * Conditional writes instead of read-modify-write: an UpdateItem that sets/removes only the named entries of the
   * existing map, or, while the item has no map yet, a put that requires it to be absent; whichever loses its
   * condition to a concurrent writer tries again, so no entry written meanwhile is overwritten.
   */
  async patchEnv(app: string, changes: Record<string, string | null>): Promise<void> {
    const entries = Object.entries(changes);
    if (entries.length === 0) return;
    const names: Record<string, string> = { '#vars': 'vars' };
    const values: Record<string, string> = {};
    const sets: string[] = [];
    const removes: string[] = [];
    entries.forEach(([key, value], i) => {
      names[`#k${i}`] = key;
      if (value === null) removes.push(`#vars.#k${i}`);
      else {
        values[`:v${i}`] = value;
        sets.push(`#vars.#k${i} = :v${i}`);
      }
    });
    const update = [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : '']
      .filter(Boolean)
      .join(' ');
    const created = Object.fromEntries(entries.filter((e): e is [string, string] => e[1] !== null));
    for (;;) {
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.table('env'),
            Key: { app },
            UpdateExpression: update,
            ConditionExpression: 'attribute_exists(#vars)',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: sets.length ? values : undefined,
          }),
        );
        return;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
      // No map yet: nothing to remove, and the entries set are the whole map, unless another writer makes one first.
      if (sets.length === 0) return;
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.table('env'),
            Item: { app, vars: created },
            ConditionExpression: 'attribute_not_exists(#vars)',
            ExpressionAttributeNames: { '#vars': 'vars' },
          }),
        );
        return;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
    }
  }

  // ---- idempotency

  async markProcessed(consumer: string, eventId: string): Promise<boolean> {
    const ttl = this.options.processedTtlSeconds ?? 30 * 24 * 3600;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table('processed'),
          Item: { consumer, eventId, at: new Date().toISOString(), expiresAt: Math.floor(Date.now() / 1000) + ttl },
          ConditionExpression: 'attribute_not_exists(eventId)',
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  // ---- internals

  /**
   * Atomically adds `count` to the log's seq counter (UpdateItem ADD) and `bytes` to its byte counter (runtime logs),
   * and returns the new values: the last seq of this batch and the bytes written through it.
   */
  private async reserveSeq(deploymentId: string, count: number): Promise<number>;
  private async reserveSeq(logId: string, count: number, bytes: number): Promise<{ seq: number; bytes: number }>;
  private async reserveSeq(
    logId: string,
    count: number,
    bytes?: number,
  ): Promise<number | { seq: number; bytes: number }> {
    const res = await this.doc.send(
      new UpdateCommand({
        TableName: this.table('logs'),
        Key: { deploymentId: logId, seq: HEAD_SEQ },
        UpdateExpression: bytes === undefined ? 'ADD #next :n' : 'ADD #next :n, #bytes :b',
        ExpressionAttributeNames:
          bytes === undefined ? { '#next': LOG_SEQ_ATTR } : { '#next': LOG_SEQ_ATTR, '#bytes': 'bytes' },
        ExpressionAttributeValues: bytes === undefined ? { ':n': count } : { ':n': count, ':b': bytes },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const seq = Number(res.Attributes?.[LOG_SEQ_ATTR]);
    return bytes === undefined ? seq : { seq, bytes: Number(res.Attributes?.bytes) };
  }

  /** BatchWriteItem in groups of 25; unprocessed items (throttling) are resent with a short backoff. */
  private async batchWrite(requests: Array<{ PutRequest: { Item: Item } } | { DeleteRequest: { Key: Item } }>) {
    for (let i = 0; i < requests.length; i += 25) {
      let pending: Record<string, typeof requests> | undefined = {
        [this.table('logs')]: requests.slice(i, i + 25),
      };
      for (let attempt = 0; pending && Object.keys(pending).length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 2000)));
        const res = await this.doc.send(new BatchWriteCommand({ RequestItems: pending }));
        pending = res.UnprocessedItems as Record<string, typeof requests> | undefined;
      }
    }
  }

  private async queryAll(input: QueryCommandInput, limit = Infinity): Promise<Item[]> {
    const out: Item[] = [];
    let start: Item | undefined;
    do {
      const res = await this.doc.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
      out.push(...(res.Items ?? []));
      start = res.LastEvaluatedKey;
    } while (start && out.length < limit);
    return out;
  }

  private async ensureTable(spec: TableSpec): Promise<void> {
    const name = this.table(spec.id);
    try {
      const res = await this.client.send(new DescribeTableCommand({ TableName: name }));
      if (res.Table?.TableStatus === 'ACTIVE') return;
    } catch (err) {
      if (awsErrorName(err) !== 'ResourceNotFoundException') throw err;
      const input: CreateTableCommandInput = {
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: attrDefs(spec),
        KeySchema: keySchema(spec.hash, spec.range),
        GlobalSecondaryIndexes: spec.indexes.length
          ? spec.indexes.map((idx) => ({
              IndexName: idx.name,
              KeySchema: keySchema(idx.hash, idx.range),
              Projection: { ProjectionType: 'ALL' },
            }))
          : undefined,
      };
      try {
        await this.client.send(new CreateTableCommand(input));
      } catch (createErr) {
        // Another instance booting at the same time created it first.
        if (awsErrorName(createErr) !== 'ResourceInUseException') throw createErr;
      }
    }
    await waitUntilTableExists(
      { client: this.client, maxWaitTime: 120, minDelay: 1, maxDelay: 5 },
      { TableName: name },
    );
    if (spec.ttlAttribute) {
      try {
        await this.client.send(
          new UpdateTimeToLiveCommand({
            TableName: name,
            TimeToLiveSpecification: { Enabled: true, AttributeName: spec.ttlAttribute },
          }),
        );
      } catch (err) {
        // Enabling twice (a concurrent boot) is refused with a ValidationException; TTL is on either way.
        if (awsErrorName(err) !== 'ValidationException') throw err;
      }
    }
  }
}
