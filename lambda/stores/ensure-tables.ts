/** Local only: create the gateway's tables in dynalite if they are missing (on AWS the stack creates them). */
import { CreateTableCommand, type DynamoDBClient, ResourceInUseException, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { CACHE_TABLE, COUNTERS_TABLE, KEYS_TABLE } from './tables';

export interface LocalTableNames {
  readonly keys: string;
  readonly counters: string;
  /** The response cache's table. */
  readonly cache?: string;
}

async function createIfMissing(client: DynamoDBClient, name: string, pk: string): Promise<boolean> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: pk, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: pk, KeyType: 'HASH' }],
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof ResourceInUseException) return false;
    throw err;
  }
}

export async function ensureTables(client: DynamoDBClient, names: LocalTableNames): Promise<void> {
  await createIfMissing(client, names.keys, KEYS_TABLE.partitionKey);
  if (await createIfMissing(client, names.counters, COUNTERS_TABLE.partitionKey)) {
    await client
      .send(new UpdateTimeToLiveCommand({ TableName: names.counters, TimeToLiveSpecification: { AttributeName: COUNTERS_TABLE.ttlAttribute, Enabled: true } }))
      .catch(() => undefined); // dynalite does not implement TTL; counters carry their window in the key anyway
  }
  // Cache entries carry their expiry, checked on every read; TTL only reclaims the space.
  if (names.cache) await createIfMissing(client, names.cache, CACHE_TABLE.partitionKey);
}
