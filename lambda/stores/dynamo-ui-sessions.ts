/** Usage-page admin sessions in the keys table: `uisession#<sha256 of the token>` → expiry. Only the hash is stored. */
import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { UiSessionStore } from '../core/usage/ui-sessions';

const pk = (hash: string) => ({ S: `uisession#${hash}` });

export class DynamoUiSessionStore implements UiSessionStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly keysTable: string,
  ) {}

  async put(tokenHash: string, expiresAt: string): Promise<void> {
    await this.client.send(
      new PutItemCommand({ TableName: this.keysTable, Item: { pk: pk(tokenHash), type: { S: 'uisession' }, validUntil: { S: expiresAt } } }),
    );
  }

  async get(tokenHash: string): Promise<string | undefined> {
    const out = await this.client.send(new GetItemCommand({ TableName: this.keysTable, Key: { pk: pk(tokenHash) }, ConsistentRead: true }));
    return out.Item?.validUntil?.S;
  }
}
