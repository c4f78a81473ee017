/**
 * The local server's upstream client: `fetch` over node:http(s) with keep-alive agents.
 *
 * Node's built-in fetch (undici) builds a Request, an AbortSignal chain and Web streams for
 * every call and sends the body through an async iterator; on the local server that is the
 * largest single cost per proxied request. The providers only need what this gives them: a
 * POST with a string body, no redirects followed, and a Response whose body streams as the
 * upstream sends it. Anything else (another body type, redirect following) goes to the platform
 * fetch unchanged.
 *
 * Failures look like fetch's: a TypeError whose `cause` carries the socket error's `code`, and an
 * aborted signal rejects with its reason and tears the connection down (also mid-stream). An answer
 * that is not valid HTTP (the parser's HPE_ codes, or a status or reason phrase a Response cannot
 * hold) fails the same way, never as an exception thrown from a socket event.
 *
 * Pooled connections the upstream may have closed: an idle connection is closed within
 * `idleTimeoutMs` of its last use, and a
 * request that meets a pooled connection closed under it (reset or ended before any answer: the
 * upstream closed it while it sat idle, e.g. while a Lambda environment was frozen) is sent again on
 * another connection. Only then: a request that fails on a new connection, or after any byte of an
 * answer, is never sent twice.
 */
import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { urlToHttpOptions } from 'node:url';
import { MALFORMED_ANSWER_CODE } from '../providers/http-errors';

export interface KeepAliveFetchOptions {
  /** Sockets per upstream host. @default 256 */
  readonly maxSockets?: number;
  /** The fetch used for calls this client does not handle. @default globalThis.fetch */
  readonly fallback?: typeof fetch;
  /**
   * How long an unused connection stays pooled. Upstreams close idle connections on their own
   * timers (5 s is common: Node, uvicorn); dropping ours first keeps requests off connections the
   * upstream is closing. @default 4000 (undici's, the Lambda's client before this one)
   */
  readonly idleTimeoutMs?: number;
}

/**
 * How a pooled connection the upstream had closed fails a request written to it: reset, or ended
 * before any answer ('socket hang up'), or the write refused.
 */
const STALE_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE']);

function plainHeaders(headers: HeadersInit | undefined): Record<string, string> | undefined {
  if (headers === undefined) return {};
  if (headers instanceof Headers || Array.isArray(headers)) return undefined;
  return headers as Record<string, string>;
}

/**
 * The upstream's answer as a Response that reads the socket directly: `text()`/`json()` collect
 * the IncomingMessage without a Web stream (JSON answers, the common case), and `body` becomes a
 * Web stream only when a caller streams it (SSE). Either way the bytes are read once.
 */
class UpstreamResponse extends Response {
  readonly #res: IncomingMessage;
  readonly #noBody: boolean;
  readonly #headers: Headers;
  #stream?: ReadableStream<Uint8Array<ArrayBuffer>>;
  #used = false;

  constructor(res: IncomingMessage, status: number, headers: Headers, noBody: boolean) {
    // The headers are not handed to Response's constructor, which would copy them (validated
    // again, one by one) into a second Headers: the one built from the socket's raw headers serves.
    super(null, { status, statusText: res.statusMessage });
    this.#res = res;
    this.#noBody = noBody;
    this.#headers = headers;
  }

  override get headers(): Headers {
    return this.#headers;
  }

  override get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
    if (this.#noBody) return null;
    this.#stream ??= Readable.toWeb(this.#res) as ReadableStream<Uint8Array<ArrayBuffer>>;
    return this.#stream;
  }

  override get bodyUsed(): boolean {
    return this.#used;
  }

  private collect(): Promise<Buffer> {
    if (this.#used || this.#stream) return Promise.reject(new TypeError('Body is unusable: Body has already been read'));
    this.#used = true;
    if (this.#noBody) return Promise.resolve(Buffer.alloc(0));
    const res = this.#res;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
      // A reset or an abort mid-body: fetch's body readers reject with a TypeError ('terminated').
      res.once('error', (err) => reject(Object.assign(new TypeError('terminated'), { cause: err })));
      res.once('close', () => {
        if (!res.complete) reject(new TypeError('terminated'));
      });
    });
  }

  override async text(): Promise<string> {
    return (await this.collect()).toString('utf8');
  }

  override async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  override async arrayBuffer(): Promise<ArrayBuffer> {
    const b = await this.collect();
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }
}

/**
 * An answer that is not HTTP a Response can hold, failed the way fetch fails: a TypeError whose
 * cause carries a code the providers' failure mapping reads as a malformed answer.
 */
function malformedAnswer(err: unknown): TypeError {
  return Object.assign(new TypeError('fetch failed'), { cause: { code: MALFORMED_ANSWER_CODE, message: err instanceof Error ? err.message : String(err) } });
}

function toResponse(res: IncomingMessage, method: string): Response {
  const headers = new Headers();
  const raw = res.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  const status = res.statusCode ?? 502;
  const noBody = status === 204 || status === 205 || status === 304 || method === 'HEAD';
  if (noBody) res.resume();
  return new UpstreamResponse(res, status, headers, noBody);
}

/**
 * Request options per upstream URL. Providers call a handful of URLs built from config, the same
 * strings on every request, so each is parsed once instead of per call. Bounded: a config with
 * per-request URLs (a model name in the path) cannot grow it without limit.
 */
const targets = new Map<string, ReturnType<typeof urlToHttpOptions> | null>();
const MAX_CACHED_TARGETS = 1024;

/** The http(s) request options of `url`, or null for any other scheme (left to the platform fetch). */
function targetOf(url: string): ReturnType<typeof urlToHttpOptions> | null {
  let target = targets.get(url);
  if (target === undefined) {
    const parsed = new URL(url);
    target = parsed.protocol === 'http:' || parsed.protocol === 'https:' ? urlToHttpOptions(parsed) : null;
    if (targets.size >= MAX_CACHED_TARGETS) targets.clear();
    targets.set(url, target);
  }
  return target;
}

export interface KeepAliveFetch {
  readonly fetch: typeof fetch;
  /** Close the pooled sockets (server shutdown). */
  close(): void;
}

export function createKeepAliveFetch(options: KeepAliveFetchOptions = {}): KeepAliveFetch {
  const maxSockets = options.maxSockets ?? 256;
  const agents = { http: new HttpAgent({ keepAlive: true, maxSockets }), https: new HttpsAgent({ keepAlive: true, maxSockets }) };
  const stopSweeping = sweepIdleSockets([agents.http, agents.https], options.idleTimeoutMs ?? 4000);
  const fallback = options.fallback ?? globalThis.fetch;

  const keepAliveFetch = ((input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const headers = plainHeaders(init.headers);
    const body = init.body;
    if (typeof input !== 'string' || headers === undefined || (body != null && typeof body !== 'string') || init.redirect !== 'manual')
      return fallback(input, init);
    const target = targetOf(input);
    if (!target) return fallback(input, init);
    const secure = target.protocol === 'https:';
    const method = (init.method ?? 'GET').toUpperCase();
    const payload = body == null ? undefined : Buffer.from(body);
    const signal = init.signal ?? undefined;

    return new Promise<Response>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const send = () => {
        /**
         * What the connection had read when it took this request: any byte past it is an answer
         * begun, and then the upstream had the request, so it is never sent again. (Counted, not
         * listened for: a 'data' listener on the socket for every request costs more.)
         */
        let readBefore: number | undefined;
        const req = (secure ? httpsRequest : httpRequest)(
          {
            ...target,
            method,
            agent: secure ? agents.https : agents.http,
            headers: payload ? { ...headers, 'content-length': String(payload.length) } : headers,
          },
          (res) => {
            let response: Response;
            try {
              response = toResponse(res, method);
            } catch (err) {
              // A status outside 200–599 or a reason phrase with control characters: Response refuses
              // it, and thrown here (a socket event) it would have taken the process down.
              res.destroy();
              return reject(malformedAnswer(err));
            }
            resolve(response);
          },
        );
        req.once('socket', (socket) => {
          readBefore = socket.bytesRead;
        });
        // Aborting destroys the request, and with it a response body still streaming.
        const onAbort = () => req.destroy(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
        if (signal) {
          signal.addEventListener('abort', onAbort, { once: true });
          req.once('close', () => signal.removeEventListener('abort', onAbort));
        }
        req.once('error', (err: NodeJS.ErrnoException) => {
          if (signal?.aborted) return reject(signal.reason);
          // A pooled connection closed under the request before any answer: the upstream had closed
          // it (idle), so it never took the request. Sent again; the dead socket has left the pool,
          // so this ends at the latest on a new connection, where a failure is final.
          const answered = readBefore === undefined || (req.socket?.bytesRead ?? 0) > readBefore;
          if (!answered && req.reusedSocket && STALE_CONNECTION_CODES.has(err.code ?? '')) return send();
          reject(Object.assign(new TypeError('fetch failed'), { cause: err }));
        });
        req.end(payload);
      };
      send();
    });
  }) as typeof fetch;

  return {
    fetch: keepAliveFetch,
    close() {
      stopSweeping();
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

/**
 * Closes pooled connections left unused for `idleMs`, so requests stay off connections the
 * upstream is about to close on its own idle timer. A sweep every `idleMs / 2` closes a free
 * connection that was already free at the previous sweep with no byte moved since: idle for at least
 * half and at most all of `idleMs`. (A per-socket timer, the agent's `timeout`, would instead be
 * re-armed on every read and write of every request.) Returns the function that stops the sweeps.
 */
function sweepIdleSockets(agents: readonly HttpAgent[], idleMs: number): () => void {
  const seenFree = new WeakMap<object, number>();
  const sweep = () => {
    for (const agent of agents)
      for (const free of Object.values(agent.freeSockets))
        for (const socket of free ?? []) {
          const moved = socket.bytesRead + socket.bytesWritten;
          if (seenFree.get(socket) === moved) socket.destroy();
          else seenFree.set(socket, moved);
        }
  };
  const timer = setInterval(sweep, Math.max(1, Math.floor(idleMs / 2)));
  timer.unref();
  return () => clearInterval(timer);
}
