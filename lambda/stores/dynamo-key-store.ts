/**
 * KeyStore on DynamoDB (and dynalite, which has no transactions). The key record is the source of
 * truth: a hash item only authenticates if the record still names that hash, or the hash item
 * carries a grace deadline. So a crash between the writes of a rotation can leave a stray hash
 * item, but never a key that works when it should not.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
  type UpdateItemCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { type HashLookup, type KeyRecord, type KeyStore, OidcClientTakenError } from '../core/keys';

const recordPk = (id: string) => `key#${id}`;
const hashPk = (hash: string) => `hash#${hash}`;
const oidcPk = (clientId: string) => `oidc#${clientId}`;

function toRecord(item: Record<string, unknown>): KeyRecord {
  const { pk: _pk, hash: _hash, type: _type, ...rest } = item;
  return rest as unknown as KeyRecord;
}

export class DynamoKeyStore implements KeyStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  private putHash(keyHash: string, keyId: string) {
    return this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: marshall({ pk: hashPk(keyHash), type: 'hash', keyId }),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  private deleteHash(keyHash: string) {
    return this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: marshall({ pk: hashPk(keyHash) }) }));
  }

  /**
   * Point `oidc#<clientId>` at this key. A pointer held by another key is taken over only when that
   * key no longer names the client or is revoked (its tokens could not be used anyway); the
   * takeover is conditional on the pointer not having moved meanwhile.
   */
  private async claimOidcClient(clientId: string, keyId: string): Promise<void> {
    const put = (condition: string, values: Record<string, unknown>) =>
      this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall({ pk: oidcPk(clientId), type: 'oidc', keyId }),
          ConditionExpression: condition,
          ExpressionAttributeValues: marshall(values),
        }),
      );
    try {
      await put('attribute_not_exists(pk) OR keyId = :id', { ':id': keyId });
      return;
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
    const pointer = await this.getRaw(oidcPk(clientId));
    const ownerId = String(pointer?.keyId ?? '');
    const owner = ownerId ? await this.getRaw(recordPk(ownerId)) : undefined;
    if (owner && owner.oidcClientId === clientId && !owner.revokedAt) throw new OidcClientTakenError(clientId, ownerId);
    try {
      await put('attribute_not_exists(pk) OR keyId = :old', { ':old': ownerId });
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw new OidcClientTakenError(clientId, 'another key (bound concurrently)');
      throw err;
    }
  }

  /** Drop the pointer if it is still this key's (a failed create, a changed or removed binding). */
  private releaseOidcClient(clientId: string, keyId: string) {
    return this.client
      .send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: marshall({ pk: oidcPk(clientId) }),
          ConditionExpression: 'keyId = :id',
          ExpressionAttributeValues: marshall({ ':id': keyId }),
        }),
      )
      .catch(() => undefined);
  }

  async lookupByOidcClient(clientId: string): Promise<KeyRecord | undefined> {
    const pointer = await this.getRaw(oidcPk(clientId));
    if (!pointer) return undefined;
    const raw = await this.getRaw(recordPk(String(pointer.keyId)));
    return raw && raw.oidcClientId === clientId ? toRecord(raw) : undefined;
  }

  async create(record: KeyRecord, keyHash: string): Promise<void> {
    if (record.oidcClientId) await this.claimOidcClient(record.oidcClientId, record.id);
    try {
      await this.createRecord(record, keyHash);
    } catch (err) {
      if (record.oidcClientId) await this.releaseOidcClient(record.oidcClientId, record.id);
      throw err;
    }
  }

  private async createRecord(record: KeyRecord, keyHash: string): Promise<void> {
    await this.putHash(keyHash, record.id);
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall({ ...record, pk: recordPk(record.id), type: 'key', hash: keyHash }, { removeUndefinedValues: true }),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (err) {
      await this.deleteHash(keyHash).catch(() => undefined);
      throw err;
    }
  }

  private async getRaw(pk: string): Promise<Record<string, unknown> | undefined> {
    const out = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: marshall({ pk }), ConsistentRead: true }));
    return out.Item ? unmarshall(out.Item) : undefined;
  }

  async lookup(keyHash: string): Promise<HashLookup | undefined> {
    const hashItem = await this.getRaw(hashPk(keyHash));
    if (!hashItem) return undefined;
    const raw = await this.getRaw(recordPk(String(hashItem.keyId)));
    if (!raw) return undefined;
    const validUntil = hashItem.validUntil as string | undefined;
    if (raw.hash !== keyHash && !validUntil) return undefined;
    return { record: toRecord(raw), validUntil: raw.hash === keyHash ? undefined : validUntil };
  }

  async get(id: string): Promise<KeyRecord | undefined> {
    const raw = await this.getRaw(recordPk(id));
    return raw ? toRecord(raw) : undefined;
  }

  async list(): Promise<KeyRecord[]> {
    const records: KeyRecord[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const out = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: '#t = :key',
          ExpressionAttributeNames: { '#t': 'type' },
          ExpressionAttributeValues: marshall({ ':key': 'key' }),
          ExclusiveStartKey: start,
        }),
      );
      for (const item of out.Items ?? []) records.push(toRecord(unmarshall(item)));
      start = out.LastEvaluatedKey;
    } while (start);
    return records.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async update(id: string, patch: Partial<KeyRecord>): Promise<KeyRecord | undefined> {
    if (!('oidcClientId' in patch)) return this.updateRecord(id, patch);
    const before = await this.getRaw(recordPk(id));
    if (!before) return undefined;
    const from = before.oidcClientId as string | undefined;
    const to = patch.oidcClientId ?? undefined;
    if (to && to !== from) await this.claimOidcClient(to, id);
    const updated = await this.updateRecord(id, patch).catch(async (err) => {
      if (to && to !== from) await this.releaseOidcClient(to, id);
      throw err;
    });
    if (from && from !== to) await this.releaseOidcClient(from, id);
    return updated;
  }

  private async updateRecord(id: string, patch: Partial<KeyRecord>): Promise<KeyRecord | undefined> {
    const sets: string[] = [];
    const removes: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    Object.entries(patch).forEach(([k, v], i) => {
      if (k === 'id' || k === 'pk' || k === 'hash' || k === 'type') return;
      names[`#f${i}`] = k;
      if (v === undefined || v === null) removes.push(`#f${i}`);
      else {
        sets.push(`#f${i} = :v${i}`);
        values[`:v${i}`] = v;
      }
    });
    if (!sets.length && !removes.length) return this.get(id);
    const expr = [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : ''].join(' ').trim();
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall({ pk: recordPk(id) }),
          UpdateExpression: expr,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: names,
          ...(sets.length ? { ExpressionAttributeValues: marshall(values, { removeUndefinedValues: true }) } : {}),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ? toRecord(unmarshall(out.Attributes)) : undefined;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return undefined;
      throw err;
    }
  }

  async rotate(id: string, newHash: string, _oldHash: string | undefined, oldValidUntil: string | undefined, hint: string): Promise<KeyRecord | undefined> {
    const raw = await this.getRaw(recordPk(id));
    if (!raw) return undefined;
    const oldHash = raw.hash as string;
    const now = new Date().toISOString();
    // 1. Mark the old hash's grace deadline first, so there is no moment where it has neither
    //    the record's blessing nor a deadline (which would cut a graceful rotation short).
    if (oldValidUntil) {
      await this.client
        .send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: marshall({ pk: hashPk(oldHash) }),
            UpdateExpression: 'SET validUntil = :u',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeValues: marshall({ ':u': oldValidUntil }),
          }),
        )
        .catch(() => undefined);
    }
    await this.putHash(newHash, id);
    let out: UpdateItemCommandOutput;
    try {
      // 2. Switch the record; the condition makes concurrent rotations fail instead of both "winning".
      out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall({ pk: recordPk(id) }),
          UpdateExpression: 'SET #h = :new, rotatedAt = :now, updatedAt = :now, hint = :hint',
          ConditionExpression: '#h = :old',
          ExpressionAttributeNames: { '#h': 'hash' },
          ExpressionAttributeValues: marshall({ ':new': newHash, ':old': oldHash, ':now': now, ':hint': hint }),
          ReturnValues: 'ALL_NEW',
        }),
      );
    } catch (err) {
      await this.deleteHash(newHash).catch(() => undefined);
      if (err instanceof ConditionalCheckFailedException) throw new Error('the key was rotated concurrently; retry');
      throw err;
    }
    // 3. Without a grace period the old hash item is just clutter (the record no longer names it).
    if (!oldValidUntil) await this.deleteHash(oldHash).catch(() => undefined);
    return out.Attributes ? toRecord(unmarshall(out.Attributes)) : undefined;
  }
}
