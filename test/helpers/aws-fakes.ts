/**
 * Secrets Manager and Firehose on 127.0.0.1, as far as the gateway uses them (awsJson1_1 over
 * HTTP, operation in X-Amz-Target), for the real AWS SDK clients of the built bundles (reached
 * through the SDK's standard AWS_ENDPOINT_URL_<SERVICE> variables). No local server exists for
 * either service.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestLogRecord } from '../../lambda/core/log-record';

export interface AwsFake {
  /** Every record Firehose accepted, in arrival order, with its delivery stream. */
  readonly firehoseRecords: { stream: string; record: RequestLogRecord }[];
  /** SecretIds read, in order. */
  readonly secretReads: string[];
  /** Starts listening; returns the endpoint URL for both services. */
  start(): Promise<string>;
  close(): Promise<void>;
}

/**
 * `secrets` maps SecretId to SecretString; any other id is ResourceNotFoundException. Each Firehose
 * record is also noted on `timeline` (as `firehose <request_id>`) when one is given.
 */
export function startAwsFake(secrets: Record<string, string>, timeline?: string[]): AwsFake {
  const firehoseRecords: AwsFake['firehoseRecords'] = [];
  const secretReads: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target']);
      const input = JSON.parse(body || '{}');
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      if (target === 'secretsmanager.GetSecretValue') {
        secretReads.push(input.SecretId);
        const value = secrets[input.SecretId];
        if (value === undefined) return void res.writeHead(400).end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'no such secret' }));
        return void res.end(
          JSON.stringify({ ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${input.SecretId}-AbCdEf`, Name: input.SecretId, SecretString: value }),
        );
      }
      if (target === 'Firehose_20150804.PutRecordBatch') {
        for (const r of input.Records) {
          const record = JSON.parse(Buffer.from(r.Data, 'base64').toString('utf8')) as RequestLogRecord;
          firehoseRecords.push({ stream: input.DeliveryStreamName, record });
          timeline?.push(`firehose ${record.request_id}`);
        }
        return void res.end(
          JSON.stringify({ FailedPutCount: 0, Encrypted: false, RequestResponses: input.Records.map((_: unknown, i: number) => ({ RecordId: `r${i}` })) }),
        );
      }
      res.writeHead(400).end(JSON.stringify({ __type: 'UnknownOperationException', message: target }));
    });
  });
  return {
    firehoseRecords,
    secretReads,
    async start() {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
