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

/** A Request whose body an adapter already holds in full (a small HTTP body, a Lambda event's body). */
export class BufferedRequest extends Request {
  readonly [HELD]: HeldBody;

  constructor(url: string, init: Omit<RequestInit, 'body'>, body: Buffer) {
    super(url, init);
    this[HELD] = new HeldBody(body);
  }

  get buffered(): Buffer {
    return this[HELD].bytes;
  }
}

/** The body members both classes override, defined once: reads come from the held bytes. */
type Holder = { readonly [HELD]: HeldBody };
const heldBodyMembers: PropertyDescriptorMap = {
  body: { configurable: true, get(this: Holder) { return this[HELD].stream(); } },
  bodyUsed: { configurable: true, get(this: Holder) { return this[HELD].used; } },
  text: { configurable: true, writable: true, async value(this: Holder) { return this[HELD].text(); } },
  json: { configurable: true, writable: true, async value(this: Holder) { return JSON.parse(this[HELD].text()); } },
};
for (const cls of [BufferedResponse, BufferedRequest]) Object.defineProperties(cls.prototype, heldBodyMembers);

/** A JSON answer: serialised once, sent as one write by the adapters. */
export function jsonResponse(body: unknown, status: number, headers: Record<string, string> = {}): BufferedResponse {
  return new BufferedResponse(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

/** A Request carrying `body` from memory when there is one (else a plain body-less Request). */
export function requestWithBody(url: string, init: Omit<RequestInit, 'body'>, body: Buffer | undefined): Request {
  return body === undefined ? new Request(url, init) : new BufferedRequest(url, init, body);
}
