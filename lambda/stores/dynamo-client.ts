/** The one DynamoDB client factory: real DynamoDB on AWS, dynalite locally (only the endpoint differs). */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface DynamoClientOptions {
  /** Local endpoint (dynalite). Absent on AWS. */
  readonly endpoint?: string;
  readonly region?: string;
  /** SDK retry attempts. Counter writes carry idempotency guards, so retries cannot double count. @default 3 */
  readonly maxAttempts?: number;
  /** The access key id the local store admits (its secret: see the local gateway's store). @default 'local' */
  readonly localSecret?: string;
}

export function createDynamoClient(options: DynamoClientOptions = {}): DynamoDBClient {
  return new DynamoDBClient({
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    maxAttempts: options.maxAttempts ?? 3,
    ...(options.endpoint
      ? { endpoint: options.endpoint, credentials: { accessKeyId: options.localSecret ?? 'local', secretAccessKey: options.localSecret ?? 'local' } }
      : {}),
  });
}
