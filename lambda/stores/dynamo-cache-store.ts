/**
 * The response cache's entries on DynamoDB (and dynalite locally): one item per exact key, with
 * DynamoDB's TTL on `expiresAt`. The answer is stored gzipped; one still over the item limit goes
 * to a blob store (AWS: the log bucket, locally a file) and the item keeps a pointer. TTL deletion
 * runs late (hours), so a read checks `expiresAt` itself: an expired entry is never served.
 *
 * A lookup is one eventually consistent GetItem (half a read unit): a just-written entry missed by
 * a replica is a miss, which costs a provider call, never a wrong answer.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { type AttributeValue, BatchWriteItemCommand, type DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { CacheBlobStore, CacheEntry, CachePurgeFilter, CacheStore } from '../core/cache/ports';
import { CACHE_TABLE } from '../contract/tables';

/** Compressed answers above this go to the blob store: DynamoDB items are capped at 400 KB, attributes included. */
export const INLINE_BODY_MAX_BYTES = 350_000;

const s = (v: string): AttributeValue => ({ S: v });
const n = (v: number): AttributeValue => ({ N: String(v) });

export interface DynamoCacheStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Where answers over INLINE_BODY_MAX_BYTES go; without one they are not cached. */
  readonly blobs?: CacheBlobStore;
  /** @default INLINE_BODY_MAX_BYTES */
  readonly inlineMaxBytes?: number;
}

export class DynamoCacheStore implements CacheStore {
  private readonly inlineMax: number;

  constructor(private readonly opts: DynamoCacheStoreOptions) {
    this.inlineMax = opts.inlineMaxBytes ?? INLINE_BODY_MAX_BYTES;
  }

  async get(id: string, nowMs: number, signal?: AbortSignal): Promise<CacheEntry | undefined> {
    const out = await this.opts.client.send(
      new GetItemCommand({ TableName: this.opts.tableName, Key: { [CACHE_TABLE.partitionKey]: s(id) } }),
      signal ? { abortSignal: signal } : undefined,
    );
    const item = out.Item;
    if (!item) return undefined;
    const expiresAt = Number(item[CACHE_TABLE.ttlAttribute]?.N);
    if (!(expiresAt * 1000 > nowMs)) return undefined;
    let packed: Uint8Array | undefined = item.body?.B;
    if (!packed && item.blobRef?.S) {
      if (!this.opts.blobs) return undefined;
      packed = await this.opts.blobs.get(item.blobRef.S, signal);
    }
    if (!packed) return undefined;
    return {
      id,
      endpoint: item.endpoint?.S ?? '',
      body: JSON.parse(gunzipSync(packed).toString('utf8')),
      promptTokens: Number(item.promptTokens?.N ?? 0),
      completionTokens: Number(item.completionTokens?.N ?? 0),
      costUsd: item.costUsd?.N !== undefined ? Number(item.costUsd.N) : null,
      provider: item.provider?.S ?? '',
      model: item.model?.S ?? '',
      requestedModel: item.requestedModel?.S ?? '',
      keyId: item.keyId?.S ?? '',
      team: item.team?.S ?? null,
      createdAt: Number(item.createdAt?.N ?? 0),
      expiresAt,
      ...(item.partition?.S ? { partition: item.partition.S } : {}),
    };
  }

  async put(entry: CacheEntry): Promise<void> {
    const packed = gzipSync(JSON.stringify(entry.body));
    const item: Record<string, AttributeValue> = {
      [CACHE_TABLE.partitionKey]: s(entry.id),
      [CACHE_TABLE.ttlAttribute]: n(entry.expiresAt),
      endpoint: s(entry.endpoint),
      promptTokens: n(entry.promptTokens),
      completionTokens: n(entry.completionTokens),
      provider: s(entry.provider),
      model: s(entry.model),
      requestedModel: s(entry.requestedModel),
      keyId: s(entry.keyId),
      createdAt: n(entry.createdAt),
    };
    if (entry.costUsd !== null) item.costUsd = n(entry.costUsd);
    if (entry.team) item.team = s(entry.team);
    if (entry.partition) item.partition = s(entry.partition);
    if (packed.byteLength <= this.inlineMax) item.body = { B: packed };
    else if (this.opts.blobs) item.blobRef = s(await this.opts.blobs.put(entry.id, packed));
    else return; // too large to keep without a blob store: the answer is simply not cached
    await this.opts.client.send(new PutItemCommand({ TableName: this.opts.tableName, Item: item }));
  }

  async purge(filter: CachePurgeFilter): Promise<string[]> {
    const conditions: string[] = [];
    const values: Record<string, AttributeValue> = {};
    const match = (condition: string, name: string, value: string | undefined) => {
      if (value === undefined) return;
      conditions.push(condition);
      values[name] = s(value);
    };
    match('keyId = :k', ':k', filter.keyId);
    match('team = :t', ':t', filter.team);
    match('requestedModel = :m', ':m', filter.model);
    const removed: string[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.opts.client.send(
        new ScanCommand({
          TableName: this.opts.tableName,
          ProjectionExpression: '#pk, blobRef',
          ExpressionAttributeNames: { '#pk': CACHE_TABLE.partitionKey },
          ...(conditions.length ? { FilterExpression: conditions.join(' AND '), ExpressionAttributeValues: values } : {}),
          ExclusiveStartKey: start,
        }),
      );
      const items = page.Items ?? [];
      for (let i = 0; i < items.length; i += 25) await this.deleteBatch(items.slice(i, i + 25));
      for (const item of items) {
        removed.push(item[CACHE_TABLE.partitionKey].S!);
        if (item.blobRef?.S) await this.opts.blobs?.delete(item.blobRef.S).catch(() => undefined);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return removed;
  }

  /** Delete up to 25 items, re-sending what DynamoDB left unprocessed (throttling). */
  private async deleteBatch(items: Record<string, AttributeValue>[]): Promise<void> {
    let requests = items.map((item) => ({ DeleteRequest: { Key: { [CACHE_TABLE.partitionKey]: item[CACHE_TABLE.partitionKey] } } }));
    for (let round = 0; requests.length && round < 8; round++) {
      const out = await this.opts.client.send(new BatchWriteItemCommand({ RequestItems: { [this.opts.tableName]: requests } }));
      requests = (out.UnprocessedItems?.[this.opts.tableName] ?? []) as typeof requests;
      if (requests.length) await new Promise((r) => setTimeout(r, 50 * 2 ** round));
    }
    if (requests.length) throw new Error(`purge: ${requests.length} cache entries could not be deleted (throttled); run the purge again`);
  }
}
