/** Local only: create the gateway's tables in dynalite if they are missing (on AWS the stack creates them). */
import { CreateTableCommand, type DynamoDBClient, ResourceInUseException, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { CACHE_TABLE, COUNTERS_TABLE, KEYS_TABLE, USAGE_TABLE } from '../contract/tables';

export interface LocalTableNames {
  readonly keys: string;
  readonly counters: string;
  /** The response cache's table. */
  readonly cache?: string;
  /** The usage rollups' table. */
  readonly usage?: string;
}

async function createIfMissing(client: DynamoDBClient, name: string, pk: string, sk?: string): Promise<boolean> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: pk, AttributeType: 'S' }, ...(sk ? [{ AttributeName: sk, AttributeType: 'S' as const }] : [])],
        KeySchema: [{ AttributeName: pk, KeyType: 'HASH' }, ...(sk ? [{ AttributeName: sk, KeyType: 'RANGE' as const }] : [])],
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof ResourceInUseException) return false;
    throw err;
  }
}

/** dynalite does not implement TTL; counters carry their window in the key, rollups their day. */
async function enableTtl(client: DynamoDBClient, name: string, attribute: string): Promise<void> {
  await client
    .send(new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { AttributeName: attribute, Enabled: true } }))
    .catch(() => undefined);
}

export async function ensureTables(client: DynamoDBClient, names: LocalTableNames): Promise<void> {
  await createIfMissing(client, names.keys, KEYS_TABLE.partitionKey);
  if (await createIfMissing(client, names.counters, COUNTERS_TABLE.partitionKey)) await enableTtl(client, names.counters, COUNTERS_TABLE.ttlAttribute);
  if (names.usage && (await createIfMissing(client, names.usage, USAGE_TABLE.partitionKey, USAGE_TABLE.sortKey)))
    await enableTtl(client, names.usage, USAGE_TABLE.ttlAttribute);
  // Cache entries carry their expiry, checked on every read; TTL only reclaims the space.
  if (names.cache) await createIfMissing(client, names.cache, CACHE_TABLE.partitionKey);
}
