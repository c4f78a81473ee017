/** Node http adapter: turns an IncomingMessage into a Web Request and writes the core's Response back, streaming. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { ClientInfo } from '../core/request-context';

export type FetchHandler = (req: Request, client: ClientInfo) => Promise<Response>;

function toRequest(req: IncomingMessage, origin: string, signal: AbortSignal): Request {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  return new Request(origin + (req.url ?? '/'), {
    method: req.method,
    headers,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
    signal,
    // @ts-expect-error Node's fetch needs duplex for streamed request bodies
    duplex: 'half',
  });
}

async function writeResponse(req: IncomingMessage, res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((v, k) => (headers[k] = v));
  // Answered before the request body was read to its end (401 before reading, 413 part-way): the
  // rest of that body still sits on the connection, so it cannot carry another request. Close it
  // after this response instead of leaving a keep-alive client waiting on a connection that never
  // answers again.
  if (!req.complete) headers.connection = 'close';
  res.writeHead(response.status, headers);
  if (!response.body) return void res.end();
  // Flush headers now so a stream's status reaches the client before its first event.
  res.flushHeaders();
  const reader = response.body.getReader();
  const onClose = () => reader.cancel().catch(() => undefined);
  res.once('close', onClose);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await new Promise<void>((r) => res.once('drain', r).once('close', r));
      if (res.destroyed) break;
    }
  } finally {
    res.off('close', onClose);
    res.end();
  }
}

export function createNodeServer(handler: FetchHandler, onError: (err: unknown) => void = () => undefined): Server {
  return createServer((req, res) => {
    const controller = new AbortController();
    // The client closing the connection before the response ends aborts the upstream call.
    res.once('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    // A fixed origin: the Host header is client-controlled and must not shape the URL.
    const origin = 'http://localhost';
    let request: Request;
    try {
      request = toRequest(req, origin, controller.signal);
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'Malformed request.', type: 'invalid_request_error', code: 'bad_request', param: null } }));
      return;
    }
    handler(request, { clientIp: req.socket.remoteAddress })
      .then((response) => writeResponse(req, res, response))
      .catch((err) => {
        onError(err);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'Internal gateway error.', type: 'api_error', code: 'internal_error', param: null } }));
        else res.destroy();
      });
  });
}
