/**
 * The Firehose sink against a thin stubbed FirehoseClient (no local Firehose server exists):
 * batching within Firehose limits, re-sending only rejected records, total outage → fallback,
 * oversized bodies → BodyStore pointer.
 */
import type { PutRecordBatchCommand, PutRecordBatchCommandOutput } from '@aws-sdk/client-firehose';
import { FALLBACK_MARKER, FIREHOSE_MAX_RECORD_BYTES, FirehoseLogSink, type FirehoseSender, stdoutFallback } from '../../../lambda/adapters/firehose-log-sink';
import type { BodyStore, RequestLogRecord } from '../../../lambda/core/log-record';
import { sampleRecord } from './sample-record';

type Answer = (ids: string[], call: number) => PutRecordBatchCommandOutput | Error;

/** A FirehoseSender that decodes what it receives and answers as scripted. */
function stubFirehose(answer: Answer = (ids) => ok(ids.length)) {
  const calls: { stream: string; ids: string[]; bytes: number[] }[] = [];
  const delivered: RequestLogRecord[] = [];
  const client: FirehoseSender = {
    async send(command: PutRecordBatchCommand) {
      const records = (command.input.Records ?? []).map((r) => Buffer.from(r.Data!).toString('utf8'));
      const parsed = records.map((line) => {
        expect(line.endsWith('\n')).toBe(true);
        return JSON.parse(line) as RequestLogRecord;
      });
      const ids = parsed.map((r) => r.request_id);
      calls.push({ stream: command.input.DeliveryStreamName!, ids, bytes: records.map((l) => Buffer.byteLength(l)) });
      const out = answer(ids, calls.length);
      if (out instanceof Error) throw out;
      parsed.forEach((r, i) => {
        if (!out.RequestResponses?.[i]?.ErrorCode) delivered.push(r);
      });
      return out;
    },
  };
  return { client, calls, delivered };
}

function ok(n: number): PutRecordBatchCommandOutput {
  return { FailedPutCount: 0, RequestResponses: Array.from({ length: n }, (_, i) => ({ RecordId: `r${i}` })), $metadata: {} };
}

/** Rejects the records whose ids `reject` returns true for, as Firehose does: per-record ErrorCode. */
function partial(ids: string[], reject: (id: string) => boolean): PutRecordBatchCommandOutput {
  const RequestResponses = ids.map((id, i) => (reject(id) ? { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' } : { RecordId: `r${i}` }));
  return { FailedPutCount: RequestResponses.filter((r) => 'ErrorCode' in r).length, RequestResponses, $metadata: {} };
}

function sinkWith(client: FirehoseSender, extra: Partial<ConstructorParameters<typeof FirehoseLogSink>[0]> = {}) {
  const fallen: { record: RequestLogRecord; reason: string }[] = [];
  const sleeps: number[] = [];
  const sink = new FirehoseLogSink({
    client,
    deliveryStreamName: 'gateway-logs',
    fallback: (record, reason) => fallen.push({ record, reason }),
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 0.5,
    ...extra,
  });
  return { sink, fallen, sleeps };
}

const ids = (n: number, prefix = 'req_') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('FirehoseLogSink', () => {
  test('write() only buffers; flush() delivers every record to the named stream', async () => {
    const fh = stubFirehose();
    const { sink, fallen } = sinkWith(fh.client);
    for (const id of ids(3)) sink.write(sampleRecord(id));
    expect(fh.calls).toHaveLength(0);
    await sink.flush();
    expect(fh.calls).toEqual([expect.objectContaining({ stream: 'gateway-logs', ids: ids(3) })]);
    expect(fh.delivered.map((r) => r.request_id)).toEqual(ids(3));
    expect(fh.delivered[0]).toEqual(sampleRecord('req_0'));
    expect(fallen).toHaveLength(0);
  });

  test('batches hold at most 500 records', async () => {
    const fh = stubFirehose();
    const { sink } = sinkWith(fh.client);
    for (const id of ids(1200)) sink.write(sampleRecord(id));
    await sink.flush();
    expect(fh.calls.map((c) => c.ids.length)).toEqual([500, 500, 200]);
    expect(new Set(fh.delivered.map((r) => r.request_id)).size).toBe(1200);
  });

  test('batches stay under 4 MiB', async () => {
    const fh = stubFirehose();
    const { sink } = sinkWith(fh.client);
    const body = 'x'.repeat(900 * 1024);
    for (const id of ids(10)) sink.write(sampleRecord(id, { request: body }));
    await sink.flush();
    for (const c of fh.calls) expect(c.bytes.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(fh.calls.map((c) => c.ids.length)).toEqual([4, 4, 2]);
  });

  test('a partial-batch failure re-sends only the rejected records, with backoff', async () => {
    const fh = stubFirehose((sent, call) => (call === 1 ? partial(sent, (id) => id === 'req_1' || id === 'req_3') : ok(sent.length)));
    const { sink, fallen, sleeps } = sinkWith(fh.client, { baseDelayMs: 100 });
    for (const id of ids(5)) sink.write(sampleRecord(id));
    await sink.flush();
    expect(fh.calls.map((c) => c.ids)).toEqual([ids(5), ['req_1', 'req_3']]);
    expect(fh.delivered.map((r) => r.request_id).sort()).toEqual(ids(5));
    expect(sleeps).toEqual([75]); // 100 ms ceiling, half fixed + half jitter (random 0.5)
    expect(fallen).toHaveLength(0);
  });

  test('a record Firehose keeps rejecting reaches the fallback; the others are delivered', async () => {
    const fh = stubFirehose((sent) => partial(sent, (id) => id === 'req_2'));
    const { sink, fallen, sleeps } = sinkWith(fh.client, { maxAttempts: 3 });
    for (const id of ids(4)) sink.write(sampleRecord(id));
    await sink.flush();
    expect(fh.calls.map((c) => c.ids)).toEqual([ids(4), ['req_2'], ['req_2']]);
    expect(sleeps).toEqual([75, 150]);
    expect(fh.delivered.map((r) => r.request_id)).toEqual(['req_0', 'req_1', 'req_3']);
    expect(fallen.map((f) => f.record)).toEqual([sampleRecord('req_2')]);
    expect(fallen[0].reason).toMatch(/ServiceUnavailableException/);
  });

  test('a total Firehose outage loses no record: all reach the fallback, flush still resolves', async () => {
    const fh = stubFirehose(() => Object.assign(new Error('getaddrinfo ENOTFOUND firehose.us-east-1.amazonaws.com'), { name: 'ServiceUnavailableException' }));
    const { sink, fallen } = sinkWith(fh.client, { maxAttempts: 4 });
    for (const id of ids(600)) sink.write(sampleRecord(id));
    await expect(sink.flush()).resolves.toBeUndefined();
    expect(fh.calls).toHaveLength(8); // two batches (500 + 100), four attempts each
    expect(fallen.map((f) => f.record.request_id).sort()).toEqual(ids(600).sort());
    expect(fallen[0].record).toEqual(sampleRecord(fallen[0].record.request_id));
    expect(fallen[0].reason).toMatch(/after 4 attempts: ServiceUnavailableException/);
  });

  test('a failing fallback does not break the sink or the flush', async () => {
    const fh = stubFirehose(() => new Error('down'));
    const errorsLogged: string[] = [];
    const sink = new FirehoseLogSink({
      client: fh.client,
      deliveryStreamName: 's',
      maxAttempts: 1,
      fallback: () => {
        throw new Error('stdout closed');
      },
      logger: { debug() {}, info() {}, warn() {}, error: (m) => void errorsLogged.push(m) },
    });
    sink.write(sampleRecord('req_x'));
    await expect(sink.flush()).resolves.toBeUndefined();
    expect(errorsLogged).toContain('log fallback failed');
  });

  test('records written while a flush is in flight are delivered by the next flush', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const fh = stubFirehose((sent) => ok(sent.length));
    const slow: FirehoseSender = {
      send: async (c) => {
        await gate;
        return fh.client.send(c);
      },
    };
    const { sink } = sinkWith(slow);
    sink.write(sampleRecord('a'));
    const first = sink.flush();
    sink.write(sampleRecord('b'));
    release();
    await first;
    await sink.flush();
    expect(fh.delivered.map((r) => r.request_id).sort()).toEqual(['a', 'b']);
  });

  test('bodies over the record size limit go to the BodyStore; the record keeps previews and the pointer', async () => {
    const fh = stubFirehose();
    const stored: { id: string; request_body: string | null; response_body: string | null }[] = [];
    const bodyStore: BodyStore = {
      async put(r, bodies) {
        stored.push({ id: r.request_id, ...bodies });
        return `s3://logs/bodies/dt=${r.ts.slice(0, 10)}/${r.request_id}.json`;
      },
    };
    const { sink, fallen } = sinkWith(fh.client, { bodyStore });
    const big = 'y'.repeat(FIREHOSE_MAX_RECORD_BYTES);
    sink.write(sampleRecord('req_big', { request: big, response: 'short answer' }));
    sink.write(sampleRecord('req_small'));
    await sink.flush();
    expect(stored).toEqual([{ id: 'req_big', request_body: big, response_body: 'short answer' }]);
    const rec = fh.delivered.find((r) => r.request_id === 'req_big')!;
    expect(rec.body_ref).toBe('s3://logs/bodies/dt=2026-11-24/req_big.json');
    expect(rec.request_body!.length).toBeLessThan(5000);
    expect(rec.request_body).toMatch(/^y+…\[truncated; full body at body_ref\]$/);
    expect(rec.response_body).toBe('short answer');
    expect(fh.calls.flatMap((c) => c.bytes).every((b) => b <= FIREHOSE_MAX_RECORD_BYTES)).toBe(true);
    expect(fh.delivered.find((r) => r.request_id === 'req_small')!.body_ref).toBeNull();
    expect(fallen).toHaveLength(0);
  });

  test('when the BodyStore fails the oversized record is still delivered, truncated', async () => {
    const fh = stubFirehose();
    const bodyStore: BodyStore = { put: async () => Promise.reject(new Error('AccessDenied')) };
    const { sink } = sinkWith(fh.client, { bodyStore });
    sink.write(sampleRecord('req_big', { response: 'z'.repeat(2 * FIREHOSE_MAX_RECORD_BYTES) }));
    await sink.flush();
    expect(fh.delivered).toHaveLength(1);
    expect(fh.delivered[0].body_ref).toBeNull();
    expect(fh.delivered[0].response_body).toMatch(/…\[truncated; body too large for the log record\]$/);
  });

  test('the default fallback writes one marked, recoverable JSON line per record to stdout', () => {
    const lines: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      stdoutFallback(sampleRecord('req_fb', { request: 'q'.repeat(300 * 1024) }), 'firehose down');
    } finally {
      spy.mockRestore();
    }
    expect(lines).toHaveLength(1);
    expect(lines[0].endsWith('\n')).toBe(true);
    expect(Buffer.byteLength(lines[0])).toBeLessThan(256 * 1024);
    const parsed = JSON.parse(lines[0]);
    expect(parsed[FALLBACK_MARKER]).toBe(1);
    expect(parsed.reason).toBe('firehose down');
    expect(parsed.record.request_id).toBe('req_fb');
    expect(parsed.record.status).toBe(200);
  });
});

test('a PutRecordBatch call that hangs is abandoned after sendTimeoutMs and counts as a failed attempt', async () => {
  const aborted: boolean[] = [];
  const hanging: FirehoseSender = {
    send: (_c, options) =>
      new Promise((_resolve, reject) =>
        options?.abortSignal?.addEventListener('abort', () => {
          aborted.push(true);
          reject(new Error('aborted'));
        }),
      ),
  };
  const { sink, fallen } = sinkWith(hanging, { sendTimeoutMs: 10, maxAttempts: 2 });
  sink.write(sampleRecord('req_hang'));
  await sink.flush();
  expect(aborted).toEqual([true, true]);
  expect(fallen.map((f) => f.record.request_id)).toEqual(['req_hang']);
  expect(fallen[0].reason).toMatch(/took longer than 10 ms/);
});

test('a body store that hangs is abandoned after sendTimeoutMs: the record is delivered with truncated bodies', async () => {
  const fh = stubFirehose();
  const bodyStore: BodyStore = { put: () => new Promise<string>(() => undefined) };
  const { sink } = sinkWith(fh.client, { bodyStore, sendTimeoutMs: 10 });
  sink.write(sampleRecord('req_big', { request: 'q'.repeat(FIREHOSE_MAX_RECORD_BYTES) }));
  await sink.flush();
  expect(fh.delivered.map((r) => [r.request_id, r.body_ref])).toEqual([['req_big', null]]);
  expect(fh.delivered[0].request_body).toMatch(/…\[truncated; body too large for the log record\]$/);
});

test('write() never throws, even for a record that cannot be encoded', () => {
  const { sink, fallen } = sinkWith(stubFirehose().client);
  const bad = { ...sampleRecord('req_bad'), total_tokens: 10n as unknown as number }; // BigInt: JSON.stringify throws
  expect(() => sink.write(bad)).not.toThrow();
  expect(fallen.map((f) => f.reason)).toEqual([expect.stringMatching(/encoding the record failed/)]);
});
