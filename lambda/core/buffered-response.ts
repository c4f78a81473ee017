/**
 * Requests and responses whose body is already in memory. They are real Request/Response objects
 * (status, headers, text(), json(), a `body` stream when someone asks for one), but they build no
 * Web stream unless a consumer reads `.body`: the core reads `buffered` and the Node and Lambda
 * adapters write it out in one go. Creating and draining a ReadableStream per request and per
 * JSON answer was a measurable share of the gateway's per-request CPU on Node 20 (bench/).
 */

/** The held bytes, their stream on demand, and fetch's read-once rule. */
class HeldBody {
  #stream?: ReadableStream<Uint8Array<ArrayBuffer>>;
  used = false;

  constructor(readonly bytes: Buffer) {}

  stream(): ReadableStream<Uint8Array<ArrayBuffer>> {
    this.#stream ??= new ReadableStream<Uint8Array<ArrayBuffer>>({
      start: (controller) => {
        controller.enqueue(new Uint8Array(this.bytes));
        controller.close();
      },
    });
    return this.#stream;
  }

  text(): string {
    if (this.used) throw new TypeError('Body is unusable: Body has already been read');
    this.used = true;
    return this.bytes.toString('utf8');
  }
}

const HELD = Symbol('heldBody');

export class BufferedResponse extends Response {
  readonly [HELD]: HeldBody;

  constructor(body: string | Buffer, init: ResponseInit) {
    super(null, init);
    this[HELD] = new HeldBody(typeof body === 'string' ? Buffer.from(body) : body);
  }

  /** The whole body, for adapters that can write it directly. */
  get buffered(): Buffer {
    return this[HELD].bytes;
  }
}

/** What an adapter hands over to build a request: the body, if any, travels separately as bytes. */
export interface AdapterRequestInit {
  readonly method: string;
  readonly headers: Headers | Record<string, string>;
  readonly signal?: AbortSignal;
}

/**
 * A Request whose body (if any) an adapter already holds in full: a small HTTP body, a Lambda
 * event's body, or none. Its headers and signal are the adapter's own objects, not copies: given
 * a signal, undici's Request constructor follows it with a listener, a WeakRef and a
 * FinalizationRegistry entry per request, which kept every request's controller alive into V8's
 * old space and ran a burst of listener removals after each full GC (seen as 10-40 ms stalls at
 * the gateway's p99 in bench/). What fetch() would need of its internal state (sending this
 * Request onwards, clone()) the gateway never does with a client's request.
 */
export class BufferedRequest extends Request {
  readonly [HELD]: HeldBody | undefined;
  readonly #headers: Headers;
  readonly #signal: AbortSignal | undefined;

  constructor(url: string, init: AdapterRequestInit, body: Buffer | undefined) {
    super(url, { method: init.method });
    this[HELD] = body === undefined ? undefined : new HeldBody(body);
    this.#headers = init.headers instanceof Headers ? init.headers : new Headers(init.headers);
    this.#signal = init.signal;
  }

  override get headers(): Headers {
    return this.#headers;
  }

  override get signal(): AbortSignal {
    return this.#signal ?? super.signal;
  }

  /** The whole body (empty when there is none). */
  get buffered(): Buffer {
    return this[HELD]?.bytes ?? EMPTY;
  }
}

const EMPTY = Buffer.alloc(0);

/** The body members both classes override, defined once: reads come from the held bytes (no body: as fetch's null body). */
type Holder = { readonly [HELD]: HeldBody | undefined };
const heldBodyMembers: PropertyDescriptorMap = {
  body: { configurable: true, get(this: Holder) { return this[HELD]?.stream() ?? null; } },
  bodyUsed: { configurable: true, get(this: Holder) { return this[HELD]?.used ?? false; } },
  text: { configurable: true, writable: true, async value(this: Holder) { return this[HELD]?.text() ?? ''; } },
  json: { configurable: true, writable: true, async value(this: Holder) { return JSON.parse(this[HELD]?.text() ?? ''); } },
};
for (const cls of [BufferedResponse, BufferedRequest]) Object.defineProperties(cls.prototype, heldBodyMembers);

/** A JSON answer: serialised once, sent as one write by the adapters. */
export function jsonResponse(body: unknown, status: number, headers: Record<string, string> = {}): BufferedResponse {
  return new BufferedResponse(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

/** The adapters' Request: `body` from memory when there is one. */
export function requestWithBody(url: string, init: AdapterRequestInit, body: Buffer | undefined): BufferedRequest {
  return new BufferedRequest(url, init, body);
}
