/**
 * A fake Lambda Runtime API on 127.0.0.1, for running a function under the real runtime client
 * (`aws-lambda-ric`), as Lambda's own runtime does:
 *
 * - `GET /2018-06-01/runtime/invocation/next` is held until the test queues an invocation, then
 *   answered with the event and the invocation headers (request id, deadline, function ARN, trace).
 * - `POST …/invocation/{id}/response` takes a streamed response (`Lambda-Runtime-Function-Response-Mode:
 *   streaming`, chunked) and reads it as API Gateway does: the metadata JSON up to the first 8 NUL
 *   bytes (`application/vnd.awslambda.http-integration-response`), then the payload, chunk by chunk
 *   as it arrives, then the HTTP trailers a failed stream carries (`Lambda-Runtime-Function-Error-Type`
 *   / `-Body`). A buffered response or `…/error` is recorded too.
 * - `POST …/init/error` records an initialization failure.
 *
 * Every step goes on `timeline` (shared with the other fakes of a test), so a test can check
 * what happened in which order, e.g. that the log record left before the runtime asked for more.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const PREFIX = '/2018-06-01/runtime';
const DELIMITER = Buffer.alloc(8);
/** API Gateway reads the metadata only from the first 16 KB of the stream. */
export const MAX_PRELUDE_BYTES = 16 * 1024;

export interface Prelude {
  statusCode?: number;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  cookies?: string[];
}

export interface InvocationResult {
  readonly requestId: string;
  /** 'streaming' (the response POST), 'buffered' (a plain response POST) or 'error' (`…/error`). */
  mode: 'streaming' | 'buffered' | 'error';
  /** Headers of the response POST, lower-cased. */
  requestHeaders: Record<string, string | string[] | undefined>;
  /** The parsed metadata prelude; undefined when the stream carried none. */
  prelude?: Prelude;
  /** Bytes before the delimiter (metadata JSON), as sent. */
  preludeBytes?: number;
  /** Payload after the delimiter, as it arrived so far. */
  body: Buffer;
  /** Payload pieces in arrival order (one per socket read; never merged). */
  bodyChunks: Buffer[];
  /** HTTP trailers of the response POST (error type and base64 error body of a failed stream). */
  trailers: Record<string, string>;
  /** Resolves when the function finished its response (the POST ended). */
  readonly finished: Promise<InvocationResult>;
}

export interface QueuedInvocation {
  readonly requestId: string;
  /** Resolves once the response POST has ended. */
  readonly result: Promise<InvocationResult>;
  /** Resolves when the payload received so far contains `text` (the prelude excluded). */
  bodyContains(text: string): Promise<void>;
}

export interface FakeRuntimeApi {
  /** host:port, the value of AWS_LAMBDA_RUNTIME_API. */
  readonly address: string;
  readonly timeline: string[];
  readonly initErrors: unknown[];
  /** Queue an invocation; `remainingMs` sets its deadline (Lambda-Runtime-Deadline-Ms) from now. */
  invoke(event: unknown, opts?: { remainingMs?: number }): QueuedInvocation;
  /** Resolves when the runtime is waiting on /next (the previous invocation is entirely done). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

interface Pending {
  readonly requestId: string;
  readonly event: unknown;
  readonly remainingMs: number;
}

export async function startFakeRuntimeApi(timeline: string[] = []): Promise<FakeRuntimeApi> {
  const queue: Pending[] = [];
  const waitingPolls: ServerResponse[] = [];
  const idleWaiters: (() => void)[] = [];
  const results = new Map<string, { result: InvocationResult; resolve: (r: InvocationResult) => void; watchers: (() => void)[] }>();
  const initErrors: unknown[] = [];

  const entryFor = (requestId: string) => {
    let entry = results.get(requestId);
    if (!entry) {
      let resolve!: (r: InvocationResult) => void;
      const finished = new Promise<InvocationResult>((r) => (resolve = r));
      const result: InvocationResult = { requestId, mode: 'streaming', requestHeaders: {}, body: Buffer.alloc(0), bodyChunks: [], trailers: {}, finished };
      entry = { result, resolve, watchers: [] };
      results.set(requestId, entry);
    }
    return entry;
  };

  const deliver = (res: ServerResponse, inv: Pending) => {
    timeline.push(`invoke ${inv.requestId}`);
    res.writeHead(200, {
      'content-type': 'application/json',
      'lambda-runtime-aws-request-id': inv.requestId,
      'lambda-runtime-deadline-ms': String(Date.now() + inv.remainingMs),
      'lambda-runtime-invoked-function-arn': 'arn:aws:lambda:us-east-1:123456789012:function:gateway-proxy',
      'lambda-runtime-trace-id': `Root=1-${Date.now().toString(16)}-${randomUUID().replaceAll('-', '').slice(0, 24)};Sampled=0`,
    });
    res.end(JSON.stringify(inv.event));
  };

  const readResponse = (req: IncomingMessage, res: ServerResponse, requestId: string, mode: InvocationResult['mode']) => {
    const entry = entryFor(requestId);
    const r = entry.result;
    r.mode = req.headers['lambda-runtime-function-response-mode'] === 'streaming' ? 'streaming' : mode;
    r.requestHeaders = req.headers;
    timeline.push(`response start ${requestId}`);
    let head = Buffer.alloc(0);
    let inBody = r.mode !== 'streaming' || req.headers['content-type'] !== 'application/vnd.awslambda.http-integration-response';
    req.on('data', (chunk: Buffer) => {
      let payload = chunk;
      if (!inBody) {
        head = Buffer.concat([head, chunk]);
        const at = head.indexOf(DELIMITER);
        if (at < 0) return;
        r.preludeBytes = at;
        r.prelude = JSON.parse(head.subarray(0, at).toString('utf8'));
        inBody = true;
        payload = head.subarray(at + DELIMITER.length);
      }
      if (!payload.length) return;
      r.bodyChunks.push(Buffer.from(payload));
      r.body = Buffer.concat([r.body, payload]);
      timeline.push(`response chunk ${requestId}`);
      for (const w of [...entry.watchers]) w();
    });
    req.on('end', () => {
      if (!inBody && head.length) r.body = head; // a metadata content type with no delimiter: keep what came
      Object.assign(r.trailers, req.trailers);
      timeline.push(`response end ${requestId}`);
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"OK"}');
      entry.resolve(r);
      for (const w of [...entry.watchers]) w();
    });
  };

  const server: Server = createServer((req, res) => {
    const url = req.url ?? '';
    if (req.method === 'GET' && url === `${PREFIX}/invocation/next`) {
      timeline.push('next');
      for (const w of idleWaiters.splice(0)) w();
      const inv = queue.shift();
      if (inv) return deliver(res, inv);
      waitingPolls.push(res);
      return;
    }
    const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
    if (req.method === 'POST' && m) return readResponse(req, res, decodeURIComponent(m[1]), m[2] === 'error' ? 'error' : 'buffered');
    if (req.method === 'POST' && url === `${PREFIX}/init/error`) {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        initErrors.push(body);
        timeline.push('init error');
        res.writeHead(202).end();
      });
      return;
    }
    res.writeHead(404).end();
  });
  // The runtime client keeps one connection to the Runtime API alive (and the native client its
  // own): never let the server wait on them when closing.
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;

  return {
    address: `127.0.0.1:${port}`,
    timeline,
    initErrors,
    invoke(event, opts = {}) {
      const inv: Pending = { requestId: randomUUID(), event, remainingMs: opts.remainingMs ?? 60_000 };
      const entry = entryFor(inv.requestId);
      const poll = waitingPolls.shift();
      if (poll) deliver(poll, inv);
      else queue.push(inv);
      return {
        requestId: inv.requestId,
        result: entry.result.finished,
        bodyContains(text) {
          return new Promise<void>((resolve) => {
            const check = () => {
              if (!entry.result.body.includes(text)) return false;
              entry.watchers.splice(entry.watchers.indexOf(check), 1);
              resolve();
              return true;
            };
            entry.watchers.push(check);
            check();
          });
        },
      };
    },
    idle() {
      return new Promise<void>((resolve) => {
        if (waitingPolls.length) return resolve();
        idleWaiters.push(resolve);
      });
    },
    async close() {
      for (const p of waitingPolls.splice(0)) p.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
