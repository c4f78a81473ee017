/**
 * ResponseStore on DynamoDB (dynalite locally): one item per stored response in the counters
 * table, whose TTL attribute already expires items by themselves. The partition key names the
 * virtual key, so one key can never read another's response (a foreign id is not found). The body
 * is gzipped JSON: a conversation with images compresses well, and an item may not exceed 400 KB.
 * One write per stored response, one (strongly consistent) read per previous_response_id.
 */
import { ConditionalCheckFailedException, DeleteItemCommand, type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { ResponseStore, StoredResponse } from '../core/response-store';
import { COUNTERS_TABLE } from '../contract/tables';

/** Below DynamoDB's 400 KB item limit, leaving room for the key and attribute names. */
export const MAX_STORED_BODY_BYTES = 390_000;

export const responseItemKey = (keyId: string, id: string) => `response#${keyId}#${id}`;

export class DynamoResponseStore implements ResponseStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async put(keyId: string, record: StoredResponse, expiresAtMs: number): Promise<boolean> {
    const body = gzipSync(JSON.stringify(record));
    if (body.byteLength > MAX_STORED_BODY_BYTES) return false;
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          [COUNTERS_TABLE.partitionKey]: { S: responseItemKey(keyId, record.response.id) },
          [COUNTERS_TABLE.ttlAttribute]: { N: String(Math.ceil(expiresAtMs / 1000)) },
          body: { B: body },
        },
      }),
    );
    return true;
  }

  async get(keyId: string, id: string): Promise<StoredResponse | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { [COUNTERS_TABLE.partitionKey]: { S: responseItemKey(keyId, id) } },
        // A client chains its next request right after the last one: it must see the write.
        ConsistentRead: true,
      }),
    );
    const item = out.Item;
    if (!item?.body?.B) return undefined;
    // DynamoDB deletes expired items lazily (up to days later): an expired one is already gone.
    if (Number(item[COUNTERS_TABLE.ttlAttribute]?.N ?? 0) * 1000 <= this.now()) return undefined;
    return JSON.parse(gunzipSync(item.body.B).toString('utf8')) as StoredResponse;
  }

  async delete(keyId: string, id: string): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: { [COUNTERS_TABLE.partitionKey]: { S: responseItemKey(keyId, id) } },
          ConditionExpression: 'attribute_exists(#pk) AND #exp > :now',
          ExpressionAttributeNames: { '#pk': COUNTERS_TABLE.partitionKey, '#exp': COUNTERS_TABLE.ttlAttribute },
          ExpressionAttributeValues: { ':now': { N: String(Math.floor(this.now() / 1000)) } },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }
}
