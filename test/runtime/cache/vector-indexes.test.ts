/**
 * The semantic vector index port, with both implementations held to one contract: the local
 * in-process index (persisted under the data dir) and the Amazon S3 Vectors adapter, driven
 * through the real `@aws-sdk/client-s3vectors` client against a local HTTP fake of its API.
 */
import { appendFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { LocalVectorIndex } from '../../../lambda/adapters/local-vector-index';
import { S3VectorsIndex } from '../../../lambda/adapters/s3-vectors-index';
import type { VectorIndex } from '../../../lambda/core/cache/ports';
import { type FakeS3Vectors, startFakeS3Vectors } from '../../helpers/fake-s3-vectors';

const NOW = Date.parse('2026-12-01T00:00:00Z');
const LATER = NOW / 1000 + 3600;

let fake: FakeS3Vectors;
let dir: string;
beforeAll(async () => {
  fake = await startFakeS3Vectors();
  dir = mkdtempSync(join(tmpdir(), 'gw-vectors-'));
});
afterAll(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
const implementations: [string, () => VectorIndex][] = [
  ['local index', () => new LocalVectorIndex()],
  [
    'S3 Vectors adapter',
    () =>
      new S3VectorsIndex({
        client: new S3VectorsClient({ endpoint: fake.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 }),
        vectorBucketName: 'cache-vectors',
        indexName: `index-${++n}`,
      }),
  ],
];

describe.each(implementations)('%s', (_name, make) => {
  test('finds the nearest vector of the partition with its cosine similarity', async () => {
    const idx = make();
    await idx.put('a', [1, 0, 0], 'p1', LATER);
    await idx.put('b', [0.6, 0.8, 0], 'p1', LATER);
    const hit = await idx.query([0.8, 0.6, 0], 'p1', NOW, 0.5);
    expect(hit?.id).toMatch(/^[ab]$/);
    expect(hit?.similarity).toBeCloseTo(0.96, 5);
    expect(await idx.query([0, 0, 1], 'p1', NOW, 0.5)).toBeUndefined();
  });

  test('never crosses partitions, however similar the vector', async () => {
    const idx = make();
    await idx.put('mine', [1, 2, 3], 'team-alpha', LATER);
    expect(await idx.query([1, 2, 3], 'team-beta', NOW, 0.1)).toBeUndefined();
    expect((await idx.query([1, 2, 3], 'team-alpha', NOW, 0.1))?.id).toBe('mine');
  });

  test('an expired vector is not returned', async () => {
    const idx = make();
    await idx.put('old', [1, 1], 'p', NOW / 1000 + 10);
    expect(await idx.query([1, 1], 'p', NOW + 9_000, 0.9)).toBeDefined();
    expect(await idx.query([1, 1], 'p', NOW + 10_000, 0.9)).toBeUndefined();
  });

  test('deleted vectors are gone; a re-put replaces the vector', async () => {
    const idx = make();
    await idx.put('x', [1, 0], 'p', LATER);
    await idx.put('y', [0, 1], 'p', LATER);
    await idx.delete(['x']);
    expect(await idx.query([1, 0], 'p', NOW, 0.9)).toBeUndefined();
    await idx.put('y', [1, 0], 'p', LATER);
    expect((await idx.query([1, 0], 'p', NOW, 0.9))?.id).toBe('y');
  });
});

describe('S3 Vectors adapter on the wire', () => {
  test('sends the partition and expiry as filterable metadata and asks for one neighbour with its distance', async () => {
    const idx = implementations[1][1]();
    fake.received.length = 0;
    await idx.put('k1', [0.5, 0.5], 'part', LATER);
    await idx.query([0.5, 0.5], 'part', NOW, 0.9);
    const [put, query] = fake.received;
    expect(put.path).toBe('/PutVectors');
    expect(put.body.vectors).toEqual([{ key: 'k1', data: { float32: [0.5, 0.5] }, metadata: { partition: 'part', expiresAt: LATER } }]);
    expect(query.path).toBe('/QueryVectors');
    expect(query.body).toMatchObject({
      topK: 1,
      returnDistance: true,
      filter: { $and: [{ partition: { $eq: 'part' } }, { expiresAt: { $gt: NOW / 1000 } }] },
    });
  });

  test('a service error surfaces as a rejected call (the cache then bypasses)', async () => {
    const idx = implementations[1][1]();
    fake.failWith = { status: 503, type: 'ServiceUnavailableException' };
    try {
      await expect(idx.query([1], 'p', NOW, 0.9)).rejects.toMatchObject({ name: 'ServiceUnavailableException' });
    } finally {
      fake.failWith = undefined;
    }
  });

  test('the index can be addressed by its ARN, as the construct passes it', async () => {
    const arn = 'arn:aws:s3vectors:eu-west-1:123456789012:bucket/cache/index/responses';
    const client = new S3VectorsClient({
      endpoint: fake.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    const idx = new S3VectorsIndex({ client, indexArn: arn });
    fake.received.length = 0;
    await idx.put('by-arn', [1, 0], 'p', LATER);
    expect((await idx.query([1, 0], 'p', NOW, 0.9))?.id).toBe('by-arn');
    expect(fake.received[0].body).toMatchObject({ indexArn: arn });
    expect(fake.received[0].body.vectorBucketName).toBeUndefined();
  });

  test('deletes go in batches of at most 500 keys', async () => {
    const idx = implementations[1][1]();
    fake.received.length = 0;
    await idx.delete(Array.from({ length: 1001 }, (_, i) => `k${i}`));
    expect(fake.received.map((r) => r.body.keys.length)).toEqual([500, 500, 1]);
  });
});

describe('local index persistence and exactness', () => {
  test('survives a restart: the log under the data dir is replayed; deletes and expiry too', async () => {
    const file = join(dir, 'restart', 'vectors.log');
    const first = new LocalVectorIndex({ file, now: () => NOW });
    await first.put('keep', [1, 0, 0], 'p', LATER);
    await first.put('gone', [0, 1, 0], 'p', LATER);
    await first.put('short', [0, 0, 1], 'p', NOW / 1000 + 1);
    await first.delete(['gone']);
    first.close();
    const second = new LocalVectorIndex({ file, now: () => NOW + 5_000 });
    expect(second.size).toBe(1);
    expect((await second.query([1, 0, 0], 'p', NOW, 0.9))?.id).toBe('keep');
    expect(await second.query([0, 1, 0], 'p', NOW, 0.9)).toBeUndefined();
    second.close();
  });

  test('a torn last record (a crash mid-write) is ignored, the rest loads', async () => {
    const file = join(dir, 'torn', 'vectors.log');
    const idx = new LocalVectorIndex({ file, now: () => NOW });
    await idx.put('whole', [1, 0], 'p', LATER);
    idx.close();
    appendFileSync(file, Buffer.from([1, 200, 0, 0, 0, 123]));
    const again = new LocalVectorIndex({ file, now: () => NOW });
    expect((await again.query([1, 0], 'p', NOW, 0.9))?.id).toBe('whole');
    again.close();
  });

  test('the log is compacted on open when most of it is dead', async () => {
    const file = join(dir, 'compact', 'vectors.log');
    const idx = new LocalVectorIndex({ file, now: () => NOW });
    for (let i = 0; i < 1500; i++) await idx.put('same', [i + 1, 1], 'p', LATER);
    idx.close();
    const before = statSync(file).size;
    const reopened = new LocalVectorIndex({ file, now: () => NOW });
    reopened.close();
    expect(statSync(file).size).toBeLessThan(before / 100);
    const third = new LocalVectorIndex({ file, now: () => NOW });
    expect(third.size).toBe(1);
    third.close();
  });

  test('pruning never changes the answer: the pruned scan equals a brute-force scan', async () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    const dims = 64;
    const idx = new LocalVectorIndex();
    const all: number[][] = [];
    for (let i = 0; i < 400; i++) {
      const v = Array.from({ length: dims }, rnd);
      all.push(v);
      await idx.put(`v${i}`, v, 'p', LATER);
    }
    const cos = (a: number[], b: number[]) => {
      let d = 0;
      let na = 0;
      let nb = 0;
      for (let i = 0; i < a.length; i++) {
        d += a[i] * b[i];
        na += a[i] * a[i];
        nb += b[i] * b[i];
      }
      return d / Math.sqrt(na * nb);
    };
    for (let q = 0; q < 40; q++) {
      // Queries near a stored vector, so some clear a high threshold and some do not.
      const base = all[q * 7];
      const query = base.map((x) => x + rnd() * (q % 4) * 0.15);
      const sims = all.map((v) => cos(v, query));
      const best = Math.max(...sims);
      for (const threshold of [0.5, 0.9, 0.95]) {
        const got = await idx.query(query, 'p', NOW, threshold);
        if (best >= threshold + 1e-6) {
          expect(got?.id).toBe(`v${sims.indexOf(best)}`);
          expect(got?.similarity).toBeCloseTo(best, 5);
        } else if (best < threshold - 1e-6) expect(got).toBeUndefined();
      }
    }
  });
});
