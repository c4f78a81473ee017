/** Where oversized bodies go: one object per request, named by request_id under its date partition. */
import type { PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileBodyStore } from '../../../lambda/adapters/file-body-store';
import { S3BodyStore } from '../../../lambda/adapters/s3-body-store';

const record = { request_id: 'req_abc', ts: '2026-11-24T12:34:56.000Z' };
const bodies = { request_body: '{"messages":["big"]}', response_body: 'answer' };

test('FileBodyStore writes the bodies to a private file and returns its file:// pointer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-bodies-'));
  try {
    const ref = await new FileBodyStore(dir).put(record, bodies);
    const file = fileURLToPath(ref);
    expect(file).toBe(join(dir, 'dt=2026-11-24', 'req_abc.json'));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ request_id: 'req_abc', ...bodies });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('S3BodyStore puts one JSON object per request and returns its s3:// pointer', async () => {
  const sent: PutObjectCommand['input'][] = [];
  const store = new S3BodyStore({
    client: {
      send: async (c: PutObjectCommand) => {
        sent.push(c.input);
        return { $metadata: {} };
      },
    },
    bucket: 'log-bucket',
    prefix: 'bodies/',
  });
  expect(await store.put(record, bodies)).toBe('s3://log-bucket/bodies/dt=2026-11-24/req_abc.json');
  expect(sent).toEqual([
    {
      Bucket: 'log-bucket',
      Key: 'bodies/dt=2026-11-24/req_abc.json',
      Body: JSON.stringify({ request_id: 'req_abc', ...bodies }),
      ContentType: 'application/json',
    },
  ]);
});
