/** Node http adapter: turns an IncomingMessage into a Web Request and writes the core's Response back, streaming. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Socket } from 'node:net';
import { type ErrorFormat, GatewayError, errorBody, errors } from '../core/errors';
import type { ClientInfo } from '../core/request-context';
import { BufferedRequest, BufferedResponse } from '../core/buffered-response';

export type FetchHandler = (req: Request, client: ClientInfo) => Promise<Response>;

/**
 * Bodies up to this size (by Content-Length) are read before the handler runs and handed to the
 * core as bytes: a Web stream over the socket costs more per request than the whole body does.
 * Larger or chunked bodies stay streamed, so the core's body limit still cuts them off early.
 */
export const BUFFERED_BODY_MAX_BYTES = 64 * 1024;

function toRequest(req: IncomingMessage, origin: string, signal: AbortSignal, buffered: Buffer | undefined): Request {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  // A body read with the headers goes to the core from memory; only large or chunked ones stream.
  if (!hasBody || buffered)
    return new BufferedRequest(origin + (req.url ?? '/'), { method: req.method ?? 'GET', headers, signal }, hasBody ? buffered : undefined);
  return new Request(origin + (req.url ?? '/'), {
    method: req.method,
    headers,
    body: Readable.toWeb(req) as ReadableStream<Uint8Array>,
    signal,
    // @ts-expect-error Node's fetch needs duplex for streamed request bodies
    duplex: 'half',
  });
}

/** The whole body when it declares a small Content-Length; undefined when it must be streamed. */
function readSmallBody(req: IncomingMessage): Promise<Buffer | undefined> | undefined {
  if (req.method === 'GET' || req.method === 'HEAD') return undefined;
  const declared = req.headers['content-length'];
  if (declared === undefined || req.headers['transfer-encoding'] !== undefined) return undefined;
  const length = Number(declared);
  if (!Number.isInteger(length) || length < 0 || length > BUFFERED_BODY_MAX_BYTES) return undefined;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.once('error', reject);
    // A client that goes away mid-body: nothing to answer.
    req.once('close', () => {
      if (!req.complete) reject(new Error('request body was cut short'));
    });
  });
}

/** Non-stream bodies up to this size go out in one write with their Content-Length. */
const SINGLE_WRITE_MAX_BYTES = 256 * 1024;

async function writeResponse(req: IncomingMessage, res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = response instanceof BufferedResponse ? response.headerRecord : {};
  if (!(response instanceof BufferedResponse))
    response.headers.forEach((v, k) => {
      headers[k] = v;
    });
  // Answered before the request body was read to its end (401 before reading, 413 part-way): the
  // rest of that body still sits on the connection, so it cannot carry another request. Close it
  // after this response instead of leaving a keep-alive client waiting on a connection that never
  // answers again.
  if (!req.complete) headers.connection = 'close';
  if (response instanceof BufferedResponse) {
    // Already in memory: one write with its length, no stream to build or drain.
    const body = response.buffered;
    headers['content-length'] = String(body.byteLength);
    res.writeHead(response.status, headers);
    return void res.end(req.method === 'HEAD' ? undefined : body);
  }
  if (!response.body) {
    res.writeHead(response.status, headers);
    return void res.end();
  }
  const reader = response.body.getReader();
  const onClose = () => reader.cancel().catch(() => undefined);
  res.once('close', onClose);
  try {
    const isStream = headers['content-type']?.toString().startsWith('text/event-stream');
    // A JSON answer is read whole and sent as one write (headers and body in one packet, with a
    // Content-Length instead of chunked framing); past SINGLE_WRITE_MAX_BYTES it is streamed.
    const held: Uint8Array[] = [];
    let heldBytes = 0;
    if (!isStream) {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          const body = held.length === 1 ? held[0] : Buffer.concat(held);
          headers['content-length'] = String(body.byteLength);
          res.writeHead(response.status, headers);
          res.end(body);
          return;
        }
        held.push(value);
        heldBytes += value.byteLength;
        if (heldBytes > SINGLE_WRITE_MAX_BYTES) break;
      }
    }
    res.writeHead(response.status, headers);
    // Flush headers now so a stream's status reaches the client before its first event.
    if (isStream) res.flushHeaders();
    for (const chunk of held) res.write(chunk);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await new Promise<void>((r) => res.once('drain', r).once('close', r));
      if (res.destroyed) break;
    }
    res.end();
  } finally {
    res.off('close', onClose);
    if (!res.writableEnded) res.end();
  }
}

const errorJson = (
  status: number,
  code: string,
  message: string,
  type: 'invalid_request_error' | 'api_error' = 'invalid_request_error',
  format: ErrorFormat = 'openai',
) => JSON.stringify(errorBody(new GatewayError({ status, type, code, message }), format));

/** The error format of a request target: Anthropic's on /v1/messages, as the app answers there. */
const formatOfTarget = (target: string | undefined): ErrorFormat => (target?.startsWith('/v1/messages') ? 'anthropic' : 'openai');

/** The request target of a raw request line that Node could not parse. */
const targetOfRawRequest = (raw: Buffer | undefined) => raw?.subarray(0, 512).toString('latin1').split(' ')[1];

/**
 * Requests Node's HTTP parser rejects before any handler runs (unknown method, malformed request
 * line or header, headers over the size limit, a header timeout). Node would answer with an empty
 * body; these answers use the documented error shape like every other error, then close.
 */
function answerClientError(err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket): void {
  // As Node's own handler does: never write a second answer into a response already under way on
  // this connection (e.g. leftover body bytes parsed as a request after a 400 was sent).
  const current = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || current?.headersSent) return void socket.destroy();
  const [status, reason, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'headers_too_large', 'The request headers are too large.']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'request_timeout', 'The request took too long to arrive.']
        : [400, 'Bad Request', 'malformed_http', 'The request is not valid HTTP/1.1 (method, request line or headers).'];
  const body = errorJson(status, code, message, 'invalid_request_error', formatOfTarget(targetOfRawRequest(err.rawPacket)));
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** How long a client may take to send its request: slow clients (slowloris) must not hold a connection and its memory open. */
export interface NodeServerTimeouts {
  /** From the connection's first byte to the end of the request headers (Node's `headersTimeout`). @default 20000 */
  readonly headersTimeoutMs?: number;
  /** From the end of the headers to the end of the body; then 408 `request_timeout`, and the request is logged as such. @default 60000 */
  readonly bodyTimeoutMs?: number;
}

export const DEFAULT_HEADERS_TIMEOUT_MS = 20_000;
export const DEFAULT_BODY_TIMEOUT_MS = 60_000;

export function createNodeServer(handler: FetchHandler, onError: (err: unknown) => void = () => undefined, timeouts: NodeServerTimeouts = {}): Server {
  const bodyTimeoutMs = timeouts.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  const headersTimeoutMs = timeouts.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  // Node checks header deadlines on an interval (30 s by default), which would stretch a short one.
  const connectionsCheckingInterval = Math.max(50, Math.min(1000, Math.floor(headersTimeoutMs / 4)));
  const server = createServer({ connectionsCheckingInterval }, (req, res) => {
    const controller = new AbortController();
    // The client closing the connection before the response ends aborts the upstream call.
    res.once('close', () => {
      clearTimeout(bodyTimer);
      if (!res.writableFinished) controller.abort();
    });
    // The body's deadline: answered 408 here at once (the handler may be waiting on the body), and
    // the core's read of it ends with the same error, so the request's record says 408 too.
    const bodyTimer =
      req.method === 'GET' || req.method === 'HEAD'
        ? undefined
        : setTimeout(() => {
            if (req.complete) return;
            const err = errors.bodyTimeout(bodyTimeoutMs);
            if (!res.headersSent) {
              const body = JSON.stringify(errorBody(err, formatOfTarget(req.url)));
              res.writeHead(408, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' }).end(body);
            }
            controller.abort(err);
            req.destroy();
          }, bodyTimeoutMs);
    req.once('end', () => clearTimeout(bodyTimer));
    // A fixed origin: the Host header is client-controlled and must not shape the URL.
    const origin = 'http://localhost';
    const serve = (buffered: Buffer | undefined) => {
      let request: Request;
      try {
        request = toRequest(req, origin, controller.signal, buffered);
      } catch {
        // e.g. a method fetch forbids (TRACE, TRACK) or a target that is not a path.
        res
          .writeHead(400, { 'content-type': 'application/json' })
          .end(errorJson(400, 'bad_request', 'Malformed request.', 'invalid_request_error', formatOfTarget(req.url)));
        return;
      }
      handler(request, { clientIp: req.socket.remoteAddress })
        .then((response) => (res.headersSent ? response.body?.cancel().catch(() => undefined) : writeResponse(req, res, response)))
        .catch((err) => {
          onError(err);
          if (!res.headersSent)
            res
              .writeHead(500, { 'content-type': 'application/json' })
              .end(errorJson(500, 'internal_error', 'Internal gateway error.', 'api_error', formatOfTarget(req.url)));
          else res.destroy();
        });
    };
    const small = readSmallBody(req);
    if (!small) return serve(undefined);
    small.then(serve, () => res.destroy());
  });
  server.headersTimeout = headersTimeoutMs;
  server.on('clientError', answerClientError);
  return server;
}
