/**
 * A local HTTP fake of the Amazon S3 Vectors API (REST-JSON: POST /PutVectors, /QueryVectors,
 * /DeleteVectors), for driving the real `@aws-sdk/client-s3vectors` client on 127.0.0.1. It keeps
 * vectors in memory, computes cosine distance, and applies the metadata filter operators the
 * gateway uses ($and, $eq, $gt) the way the service does; anything else is a ValidationException.
 */
import type { ServerResponse } from 'node:http';
import { type FakeUpstream, type ReceivedRequest, startFakeUpstream } from './fake-upstream';

interface StoredVector {
  readonly key: string;
  readonly data: number[];
  readonly metadata: Record<string, unknown>;
}

export interface FakeS3Vectors extends FakeUpstream {
  /** Vectors per `bucket/index`. */
  readonly indexes: Map<string, Map<string, StoredVector>>;
  /** Answer every call with this error until cleared (outage tests). */
  failWith?: { status: number; type: string };
}

function matches(metadata: Record<string, unknown>, filter: unknown): boolean {
  if (typeof filter !== 'object' || filter === null) throw new Error('filter must be an object');
  return Object.entries(filter as Record<string, unknown>).every(([field, cond]) => {
    if (field === '$and') return (cond as unknown[]).every((f) => matches(metadata, f));
    const value = metadata[field];
    if (typeof cond !== 'object' || cond === null) return value === cond;
    return Object.entries(cond as Record<string, unknown>).every(([op, operand]) => {
      if (op === '$eq') return value === operand;
      if (op === '$gt') return typeof value === 'number' && value > (operand as number);
      throw new Error(`unsupported operator ${op}`);
    });
  });
}

function cosineDistance(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return 1 - dot / Math.sqrt(na * nb);
}

function reply(res: ServerResponse, status: number, body: unknown, errorType?: string) {
  res.writeHead(status, { 'content-type': 'application/json', ...(errorType ? { 'x-amzn-errortype': errorType } : {}) });
  res.end(JSON.stringify(body));
}

export async function startFakeS3Vectors(): Promise<FakeS3Vectors> {
  const indexes = new Map<string, Map<string, StoredVector>>();
  const fake = (await startFakeUpstream()) as FakeS3Vectors;
  const indexOf = (b: { vectorBucketName?: string; indexName?: string; indexArn?: string }) => {
    const name = b.indexArn ?? `${b.vectorBucketName}/${b.indexName}`;
    if (!indexes.has(name)) indexes.set(name, new Map());
    return indexes.get(name)!;
  };
  fake.handle((req: ReceivedRequest, res) => {
    if (fake.failWith) return reply(res, fake.failWith.status, { message: 'injected failure' }, fake.failWith.type);
    const b = req.body ?? {};
    if (!b.indexArn && (!b.vectorBucketName || !b.indexName))
      return reply(res, 400, { message: 'indexArn, or vectorBucketName and indexName, are required' }, 'ValidationException');
    try {
      switch (req.path) {
        case '/PutVectors':
          for (const v of b.vectors) indexOf(b).set(v.key, { key: v.key, data: v.data.float32, metadata: v.metadata ?? {} });
          return reply(res, 200, {});
        case '/QueryVectors': {
          const candidates = [...indexOf(b).values()].filter((v) => (b.filter ? matches(v.metadata, b.filter) : true));
          const ranked = candidates
            .map((v) => ({ key: v.key, distance: cosineDistance(v.data, b.queryVector.float32), metadata: v.metadata }))
            .sort((x, y) => x.distance - y.distance)
            .slice(0, b.topK);
          return reply(res, 200, {
            vectors: ranked.map((r) => ({
              key: r.key,
              ...(b.returnDistance ? { distance: r.distance } : {}),
              ...(b.returnMetadata ? { metadata: r.metadata } : {}),
            })),
            distanceMetric: 'cosine',
          });
        }
        case '/DeleteVectors':
          for (const k of b.keys) indexOf(b).delete(k);
          return reply(res, 200, {});
        default:
          return reply(res, 404, { message: `no such operation ${req.path}` }, 'NotFoundException');
      }
    } catch (err) {
      return reply(res, 400, { message: String(err) }, 'ValidationException');
    }
  });
  return Object.assign(fake, { indexes });
}
