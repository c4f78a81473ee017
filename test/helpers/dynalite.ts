/** An in-memory dynalite on 127.0.0.1 for store tests that need no whole gateway. */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoClient } from '../../lambda/stores/dynamo-client';

export interface LocalDynamo {
  readonly client: DynamoDBClient;
  readonly endpoint: string;
  close(): Promise<void>;
}

export async function startDynalite(): Promise<LocalDynamo> {
  const dynalite = require('dynalite') as (opts: Record<string, unknown>) => Server;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = createDynamoClient({ endpoint, region: 'us-east-1', maxAttempts: 1 });
  return {
    client,
    endpoint,
    async close() {
      client.destroy();
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
}
