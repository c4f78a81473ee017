/**
 * Fault-injection harness: faulty upstream behaviours (real HTTP on 127.0.0.1), a limiter that
 * counts reservations, a log sink that lets a test await a request's record, and a seeded PRNG.
 */
import type { ServerResponse } from 'node:http';
import { GatewayError } from '../../../lambda/core/errors';
import type { KeyRecord } from '../../../lambda/core/keys';
import type { LogSink, RequestLogRecord } from '../../../lambda/core/log-record';
import type { ActualUsage, Limiter, Reservation } from '../../../lambda/core/ports';
import { type UpstreamHandler, json, openAiChunks, openAiCompletion, writeSse } from '../../helpers/fake-upstream';

/** mulberry32: a tiny deterministic PRNG, so statistical tests give the same numbers on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every reserve must be followed by exactly one settle or release; anything else is recorded as a violation. */
export class CountingLimiter implements Limiter {
  readonly open = new Set<Reservation>();
  reserved = 0;
  settled = 0;
  released = 0;
  readonly violations: string[] = [];
  /** Key names whose own quota is exhausted: reserve answers 429 at once. */
  readonly overQuota = new Set<string>();

  async reserve(key: KeyRecord, _estimate: unknown, requestId: string): Promise<Reservation> {
    if (this.overQuota.has(key.name)) {
      throw new GatewayError({
        status: 429,
        type: 'rate_limit_error',
        code: 'rate_limit_exceeded',
        message: 'Key over its tokens-per-minute limit.',
        retryAfterSeconds: 7,
      });
    }
    const r: Reservation = { headers: { 'x-test-reservation': requestId } };
    this.reserved++;
    this.open.add(r);
    return r;
  }
  async settle(r: Reservation, _actual: ActualUsage): Promise<void> {
    this.close(r, 'settle');
    this.settled++;
  }
  async release(r: Reservation): Promise<void> {
    this.close(r, 'release');
    this.released++;
  }
  private close(r: Reservation, how: string) {
    if (!this.open.delete(r)) this.violations.push(`${how} of a reservation that was not open (${r.headers['x-test-reservation']})`);
  }
}

/** Collects log records; tests wait for a record (written after the response's last byte) rather than sleep. */
export class CapturingLogSink implements LogSink {
  readonly records: RequestLogRecord[] = [];
  private waiters: Array<{ match: (r: RequestLogRecord) => boolean; resolve: (r: RequestLogRecord) => void }> = [];

  write(record: RequestLogRecord): void {
    this.records.push(record);
    for (const w of this.waiters.filter((w) => w.match(record))) w.resolve(record);
    this.waiters = this.waiters.filter((w) => !w.match(record));
  }
  /** The first record (already written or still to come) that matches. */
  waitFor(match: (r: RequestLogRecord) => boolean): Promise<RequestLogRecord> {
    const found = this.records.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }
  record(requestId: string): Promise<RequestLogRecord> {
    return this.waitFor((r) => r.request_id === requestId);
  }
}

export interface LoggedAttempt {
  provider: string;
  model: string;
  status: number | null;
  latency_ms: number;
  error?: string;
}

export const attemptsOf = (r: RequestLogRecord): LoggedAttempt[] => JSON.parse(r.attempts);

/** A promise that resolves when the upstream sees the client's connection close (the gateway aborted the call). */
export function closed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => res.once('close', () => resolve()));
}

const chunkBase = { id: 'chatcmpl-fault', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'm' };
const roleChunk = { ...chunkBase, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] };
const contentChunk = (text: string) => ({ ...chunkBase, choices: [{ index: 0, delta: { content: text }, finish_reason: null }] });
const sseHead = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/event-stream' });
const sseData = (res: ServerResponse, data: unknown) => res.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);

/** The healthy answer, in whichever format the request asked for. */
export const healthy =
  (text: string): UpstreamHandler =>
  (req, res) =>
    req.body?.stream
      ? writeSse(res, openAiChunks(text.split(' '), 'm', { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 }))
      : json(res, 200, openAiCompletion(text, 'm'));

/**
 * Faults that strike before the first content event: the gateway can still fall back.
 * Each one works for JSON and streaming requests.
 */
export const preCommitFaults: Record<string, UpstreamHandler> = {
  '429 with Retry-After': (_req, res) => json(res, 429, { error: { message: 'Rate limit reached', type: 'rate_limit_error' } }, { 'retry-after': '7' }),
  '500': (_req, res) => json(res, 500, { error: { message: 'Internal error', type: 'server_error' } }),
  '503': (_req, res) => json(res, 503, { error: { message: 'Service unavailable', type: 'server_error' } }),
  'never answers': () => new Promise(() => undefined),
  'connection reset': (_req, res) => void res.socket?.destroy(),
  'abort mid-answer': (req, res) => {
    if (req.body?.stream) {
      sseHead(res);
      sseData(res, roleChunk); // the role header is not content: nothing is committed yet
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
      res.write('{"id":"chatcmpl-x","choices":[{"index":0,');
    }
    setTimeout(() => res.socket?.destroy(), 5);
  },
  'first byte too late': (req, res) => {
    const timer = setTimeout(() => healthy('late answer')(req, res), 2_000);
    res.once('close', () => clearTimeout(timer));
  },
  'malformed JSON': (req, res) => {
    if (req.body?.stream) {
      sseHead(res);
      res.end('data: {"choices": [ this is not json\n\n');
    } else res.writeHead(200, { 'content-type': 'application/json' }).end('{"choices": [ this is not json');
  },
  '200 then in-band error before content': (req, res) => {
    if (!req.body?.stream) return json(res, 529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    sseHead(res);
    sseData(res, roleChunk);
    sseData(res, { error: { message: 'Overloaded', type: 'overloaded_error' } });
    res.end();
  },
};

/** What the client gets when the only target has that fault: status, code, and how long it may take at most. */
export const documentedErrors: Record<string, { status: number; code: string }> = {
  '429 with Retry-After': { status: 429, code: 'upstream_rate_limited' },
  '500': { status: 502, code: 'upstream_error' },
  '503': { status: 503, code: 'upstream_unavailable' },
  'never answers': { status: 504, code: 'upstream_timeout' },
  'connection reset': { status: 502, code: 'upstream_network' },
  'abort mid-answer': { status: 502, code: 'upstream_network' },
  'first byte too late': { status: 504, code: 'upstream_timeout' },
  'malformed JSON': { status: 502, code: 'upstream_malformed' },
  '200 then in-band error before content': { status: 503, code: 'upstream_unavailable' },
};

/** Faults after the first content event: the stream is committed, so it must end with an error event. */
export const postCommitFaults: Record<string, { handler: UpstreamHandler; code: string }> = {
  'connection aborted mid-stream': {
    handler: (_req, res) => {
      sseHead(res);
      sseData(res, roleChunk);
      sseData(res, contentChunk('Hello'));
      setTimeout(() => res.socket?.destroy(), 5);
    },
    code: 'upstream_network',
  },
  'closed without [DONE] after content': {
    handler: (_req, res) => {
      sseHead(res);
      sseData(res, roleChunk);
      sseData(res, contentChunk('Hello'));
      res.end();
    },
    code: 'upstream_cut',
  },
  'in-band error after content': {
    handler: (_req, res) => {
      sseHead(res);
      sseData(res, contentChunk('Hello'));
      sseData(res, { error: { message: 'Internal failure mid-generation', type: 'server_error' } });
      res.end();
    },
    code: 'upstream_in_band',
  },
  'silent mid-stream past the idle limit': {
    handler: (_req, res) => {
      sseHead(res);
      sseData(res, contentChunk('Hello'));
    },
    code: 'upstream_idle_timeout',
  },
};

/** Read an SSE body to its end: the `data:` payloads in order. */
export async function readSseData(res: Response): Promise<string[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .map((block) =>
      block
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n'),
    )
    .filter(Boolean);
}

/** A counting limiter that also keeps what each reservation settled to. */
export class SettlementLimiter extends CountingLimiter {
  readonly actual: ActualUsage[] = [];
  override async settle(r: Reservation, actual: ActualUsage): Promise<void> {
    this.actual.push(actual);
    await super.settle(r, actual);
  }
}

/**
 * The log record of a call, after checking that the limiter settled exactly its tokens and cost
 * (the one settlement since `before`) and that no reservation is left open or was misused.
 */
export async function expectSettled(limiter: SettlementLimiter, logs: CapturingLogSink, requestId: string | null, before: number): Promise<RequestLogRecord> {
  const record = await logs.record(requestId!);
  expect(limiter.actual.slice(before)).toEqual([{ tokens: record.prompt_tokens! + record.completion_tokens!, costUsd: record.cost_usd }]);
  expect(limiter.open.size).toBe(0);
  expect(limiter.violations).toEqual([]);
  return record;
}
