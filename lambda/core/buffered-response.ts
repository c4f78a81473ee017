/**
 * Requests and responses whose body is already in memory. The response is a real Response and the
 * request implements fetch's Request (status or method, headers, text(), json(), a `body` stream
 * when someone asks for one), but neither builds a Web stream unless a consumer reads `.body`: the
 * core reads `buffered` and the Node and Lambda adapters write it out in one go. Creating and
 * draining a ReadableStream per request and per JSON answer was a measurable share of the
 * gateway's per-request CPU on Node 20 (bench/).
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
    return this.take().toString('utf8');
  }

  /** The bytes, once (fetch's read-once rule). */
  take(): Buffer {
    if (this.used) throw new TypeError('Body is unusable: Body has already been read');
    this.used = true;
    return this.bytes;
  }
}

const HELD = Symbol('heldBody');

/** A buffered answer's status and headers; the header names are lower-case, as the core writes them. */
export interface BufferedResponseInit {
  readonly status: number;
  readonly statusText?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export class BufferedResponse extends Response {
  readonly [HELD]: HeldBody;
  readonly #given: Readonly<Record<string, string>>;
  #headers?: Headers;

  constructor(body: string | Buffer, init: BufferedResponseInit) {
    super(null, { status: init.status, statusText: init.statusText });
    this[HELD] = new HeldBody(typeof body === 'string' ? Buffer.from(body) : body);
    this.#given = init.headers ?? {};
  }

  /**
   * A Headers object only once someone asks for one. Building it (validating and copying every
   * header) and iterating it again (sorted, as fetch's Headers iterate) to write the answer was a
   * share of each request's CPU; the Node adapter writes `headerRecord` instead.
   */
  override get headers(): Headers {
    this.#headers ??= new Headers(this.#given);
    return this.#headers;
  }

  /** The headers to write: as given, or as they now are if someone read (and maybe changed) `headers`. */
  get headerRecord(): Record<string, string> {
    if (!this.#headers) return { ...this.#given };
    const out: Record<string, string> = {};
    this.#headers.forEach((v, k) => {
      out[k] = v;
    });
    return out;
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

/** Methods fetch's Request refuses (and so do we): they are no business of an LLM gateway either. */
const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);
/** Methods fetch upper-cases whatever their case; any other token is kept as sent. */
const NORMALISED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);
const METHOD_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function normaliseMethod(method: string): string {
  if (!METHOD_TOKEN.test(method)) throw new TypeError(`'${method}' is not a valid HTTP method.`);
  const upper = method.toUpperCase();
  if (FORBIDDEN_METHODS.has(upper)) throw new TypeError(`'${method}' HTTP method is unsupported.`);
  return NORMALISED_METHODS.has(upper) ? upper : method;
}

/** The signal of a request no one can cancel (an adapter that passes none). */
const NEVER_ABORTED = new AbortController().signal;

/**
 * A Request whose body (if any) an adapter already holds in full: a small HTTP body, a Lambda
 * event's body, or none. It implements fetch's Request without being undici's: undici's
 * constructor builds its own AbortController, Headers and request state (and, given a signal,
 * follows it with a listener, a WeakRef and a FinalizationRegistry entry), all per request and
 * all unused by the core; that was CPU on every request and a share of what survived each young
 * GC (bench/). The URL and method are checked and normalised as fetch's constructor does them
 * (WHATWG URL parsing, forbidden and case-normalised methods), so routing sees the same request.
 */
export class BufferedRequest implements Request {
  readonly [HELD]: HeldBody | undefined;
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  readonly signal: AbortSignal;
  readonly cache: RequestCache = 'default';
  readonly credentials: RequestCredentials = 'same-origin';
  readonly destination: RequestDestination = '';
  readonly integrity = '';
  readonly keepalive = false;
  readonly mode: RequestMode = 'cors';
  readonly redirect: RequestRedirect = 'follow';
  readonly referrer = 'about:client';
  readonly referrerPolicy: ReferrerPolicy = '';
  declare readonly body: ReadableStream<Uint8Array<ArrayBuffer>> | null;
  declare readonly bodyUsed: boolean;
  declare text: () => Promise<string>;
  declare json: () => Promise<unknown>;

  constructor(url: string, init: AdapterRequestInit, body: Buffer | undefined) {
    this.url = new URL(url).href;
    this.method = normaliseMethod(init.method);
    this[HELD] = body === undefined ? undefined : new HeldBody(body);
    this.headers = init.headers instanceof Headers ? init.headers : new Headers(init.headers);
    this.signal = init.signal ?? NEVER_ABORTED;
  }

  /** The whole body (empty when there is none). */
  get buffered(): Buffer {
    return this[HELD]?.bytes ?? EMPTY;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = this[HELD]?.take() ?? EMPTY;
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  async bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return new Uint8Array(await this.arrayBuffer());
  }

  async blob(): Promise<Blob> {
    return new Blob([await this.arrayBuffer()], { type: this.headers.get('content-type') ?? '' });
  }

  /** Parsed by fetch's own Response, which knows multipart and urlencoded bodies. */
  formData(): Promise<FormData> {
    return new Response(this.body, { headers: this.headers }).formData() as Promise<FormData>;
  }

  clone(): Request {
    if (this.bodyUsed) throw new TypeError('Request.clone: Body has already been consumed.');
    return new BufferedRequest(
      this.url,
      { method: this.method, headers: new Headers(this.headers), signal: this.signal },
      this[HELD] && Buffer.from(this[HELD].bytes),
    );
  }
}

const EMPTY = Buffer.alloc(0);

/** The body members both classes override, defined once: reads come from the held bytes (no body: as fetch's null body). */
type Holder = { readonly [HELD]: HeldBody | undefined };
const heldBodyMembers: PropertyDescriptorMap = {
  body: {
    configurable: true,
    get(this: Holder) {
      return this[HELD]?.stream() ?? null;
    },
  },
  bodyUsed: {
    configurable: true,
    get(this: Holder) {
      return this[HELD]?.used ?? false;
    },
  },
  text: {
    configurable: true,
    writable: true,
    async value(this: Holder) {
      return this[HELD]?.text() ?? '';
    },
  },
  json: {
    configurable: true,
    writable: true,
    async value(this: Holder) {
      return JSON.parse(this[HELD]?.text() ?? '');
    },
  },
};
for (const cls of [BufferedResponse, BufferedRequest]) Object.defineProperties(cls.prototype, heldBodyMembers);

/** A JSON answer: serialised once, sent as one write by the adapters. */
export function jsonResponse(body: unknown, status: number, headers: Record<string, string> = {}): BufferedResponse {
  return new BufferedResponse(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}
