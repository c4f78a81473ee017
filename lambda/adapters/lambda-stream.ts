/**
 * The Lambda streaming adapter: API Gateway (REST, Lambda proxy integration with
 * `ResponseTransferMode.STREAM`) invokes the function with a REST proxy event; we turn it into a
 * Web Request, run the core, and write the core's Response back through
 * `awslambda.HttpResponseStream.from` (status and headers as the metadata prelude, then the body
 * chunk by chunk, as it is produced).
 *
 * After the stream has ended the adapter calls `flush()` (log records), so delivery never delays
 * the client's last byte but still finishes inside the invocation.
 */
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import type { Writable } from 'node:stream';
import type { ClientInfo } from '../core/request-context';
import type { Logger } from '../core/ports';
import { BufferedRequest, BufferedResponse } from '../core/buffered-response';
import { errors, renderError } from '../core/errors';

/** What the adapter drives: the gateway (or the admin app) as a fetch-style function plus a flush. */
export interface StreamingApp {
  fetch(req: Request, client: ClientInfo): Promise<Response>;
  flush?(): Promise<void>;
}

/**
 * A fixed origin for the Request URL: the Host header is client-controlled and must not shape the
 * URL the core sees (and the core never builds an upstream URL from it).
 */
const ORIGIN = 'https://gateway.internal';

/**
 * The request path as the API's resources see it: the resource template with its path parameters
 * filled in (`/v1/{proxy+}` + `chat/completions`). Unlike `event.path` this never carries a custom
 * domain's base-path mapping, so the core routes the same whatever domain serves the API.
 */
export function requestPath(event: Pick<APIGatewayProxyEvent, 'resource' | 'path' | 'pathParameters'>): string {
  if (!event.resource) return event.path || '/';
  const params = event.pathParameters ?? {};
  let missing = false;
  const path = event.resource.replace(/\{([^}+]+)\+?\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) missing = true;
    // Greedy parameters keep their slashes; each segment is re-encoded so the URL parses back to the same path.
    return (value ?? '').split('/').map(encodeURIComponent).join('/');
  });
  return missing ? event.path || '/' : path;
}

function queryString(event: APIGatewayProxyEvent): string {
  const search = new URLSearchParams();
  const multi = event.multiValueQueryStringParameters;
  if (multi) {
    for (const [k, values] of Object.entries(multi)) for (const v of values ?? []) search.append(k, v);
  } else {
    for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) if (v !== undefined) search.append(k, v);
  }
  const s = search.toString();
  return s ? '?' + s : '';
}

function requestHeaders(event: APIGatewayProxyEvent): Headers {
  const headers = new Headers();
  const multi = event.multiValueHeaders;
  if (multi && Object.keys(multi).length) {
    for (const [k, values] of Object.entries(multi)) for (const v of values ?? []) headers.append(k, v);
  } else {
    for (const [k, v] of Object.entries(event.headers ?? {})) if (v !== undefined) headers.set(k, v);
  }
  return headers;
}

/** A REST proxy event as the core's Web Request. Throws only on a malformed event. */
export function eventToRequest(event: APIGatewayProxyEvent, signal?: AbortSignal): Request {
  const method = event.httpMethod.toUpperCase();
  const hasBody = method !== 'GET' && method !== 'HEAD' && event.body !== null && event.body !== undefined;
  // The event holds the whole body already: the core reads it from memory, not through a stream.
  const body = hasBody ? Buffer.from(event.body as string, event.isBase64Encoded ? 'base64' : 'utf8') : undefined;
  return new BufferedRequest(ORIGIN + requestPath(event) + queryString(event), { method, headers: requestHeaders(event), signal }, body);
}

export function clientInfo(event: APIGatewayProxyEvent): ClientInfo {
  return { clientIp: event.requestContext?.identity?.sourceIp ?? undefined };
}

/** Framing headers belong to the connection API Gateway holds with the client, not to our metadata. */
const CONNECTION_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade']);

/** The metadata prelude API Gateway reads: status, headers, and each Set-Cookie on its own in `cookies`. */
export type ResponseMetadata = {
  statusCode: number;
  headers: Record<string, string>;
  cookies?: string[];
};

export function metadataOf(response: Response): ResponseMetadata {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    // Set-Cookie values cannot be joined into one header value: they travel in `cookies`.
    if (!CONNECTION_HEADERS.has(name) && name !== 'set-cookie') headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  return cookies.length ? { statusCode: response.status, headers, cookies } : { statusCode: response.status, headers };
}

function write(stream: Writable, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    // Backpressure: wait for the callback, so a slow client never makes us buffer the whole answer.
    stream.write(chunk, (err) => (err ? reject(err) : resolve()));
  });
}

function end(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    stream.once('error', () => resolve());
    stream.end(() => resolve());
  });
}

/**
 * Writes status, headers and the streamed body. The metadata prelude only reaches API Gateway
 * with the first write (aws-lambda-nodejs-runtime-interface-client#97), so a body-less response
 * still writes one empty chunk: otherwise the client would get 200 with no headers.
 */
export async function writeResponse(response: Response, responseStream: Writable, signal?: AbortSignal, onHeadersSent?: () => void): Promise<void> {
  const stream = awslambda.HttpResponseStream.from(responseStream, metadataOf(response));
  if (response instanceof BufferedResponse) {
    // In memory already: the prelude and the whole body in one write.
    await write(stream, response.buffered);
    onHeadersSent?.();
    return end(stream);
  }
  await write(stream, new Uint8Array(0));
  onHeadersSent?.();
  if (response.body) {
    const reader = response.body.getReader();
    try {
      for (;;) {
        if (signal?.aborted) {
          await reader.cancel(signal.reason).catch(() => undefined);
          break;
        }
        const { done, value } = await reader.read();
        if (done) break;
        if (value?.byteLength) await write(stream, value);
      }
    } finally {
      reader.releaseLock();
    }
  }
  await end(stream);
}

/**
 * Builds the app on the first invocation and reuses it for the container's life. A failed build
 * is not cached (the invocation answers 500 and logs why), so a transient failure heals itself.
 */
export function initOnce<T>(build: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () =>
    (pending ??= build().catch((err) => {
      pending = undefined;
      throw err;
    }));
}

/**
 * Time kept back before the function's own timeout: when only this much is left the request is
 * aborted, so the stream ends, the reservation settles and the log record is flushed inside the
 * invocation. A Lambda killed at its timeout would otherwise leave no record at all.
 */
export const DEADLINE_RESERVE_MS = 3_000;

/** Abort `controller` shortly before the invocation's deadline; returns a canceller. */
function abortBeforeDeadline(controller: AbortController, context: Context | undefined, logger?: Logger): () => void {
  const remaining = context?.getRemainingTimeInMillis?.();
  if (remaining === undefined || !Number.isFinite(remaining)) return () => undefined;
  const timer = setTimeout(
    () => {
      logger?.warn('invocation deadline near: ending the request so it settles and is logged', { remainingMs: DEADLINE_RESERVE_MS });
      // The gateway's own time ran out, not the client's patience: logged and answered as a gateway timeout.
      controller.abort(errors.gatewayTimeout());
    },
    Math.max(0, remaining - DEADLINE_RESERVE_MS),
  );
  timer.unref?.();
  return () => clearTimeout(timer);
}

/**
 * The handler body, independent of `awslambda.streamifyResponse` so tests can call it with a
 * stand-in global. `app` is resolved per invocation (the entry builds it once per container).
 */
export function createStreamingHandler(app: () => Promise<StreamingApp> | StreamingApp, logger?: Logger) {
  return async (event: APIGatewayProxyEvent, responseStream: Writable, context?: Context): Promise<void> => {
    const controller = new AbortController();
    const cancelDeadline = abortBeforeDeadline(controller, context, logger);
    // The response stream closed before it was finished: the connection to the Runtime API broke,
    // so nothing more can be delivered; stop the upstream call too. (A client that disconnects is
    // not seen here: Lambda keeps a streamed response running and gives the function no signal.)
    const onClose = () => {
      if (!responseStream.writableFinished) controller.abort(new Error('client disconnected'));
    };
    responseStream.once('close', onClose);
    let gateway: StreamingApp | undefined;
    let headersSent = false;
    /** A failure after the first byte, rethrown once the record is flushed. */
    let failedMidStream: { error: unknown } | undefined;
    try {
      gateway = await app();
      let request: Request;
      try {
        request = eventToRequest(event, controller.signal);
      } catch {
        return await writeResponse(renderError(errors.badRequest('Malformed request.', null, 'bad_request'), 'openai'), responseStream);
      }
      const response = await gateway.fetch(request, clientInfo(event));
      await writeResponse(response, responseStream, controller.signal, () => (headersSent = true));
    } catch (err) {
      logger?.error('lambda invocation failed', { error: err instanceof Error ? err.stack : String(err) });
      if (!responseStream.writableEnded) {
        // Headers already out (a body that failed mid-way, which the core did not end in-band):
        // ending the stream normally would pass a cut answer off as complete. The error goes to the
        // runtime instead, which ends the stream with its error trailers and counts a failed
        // invocation.
        if (headersSent) failedMidStream = { error: err };
        else await writeResponse(renderError(errors.internal('Internal gateway error.'), 'openai'), responseStream);
      }
    } finally {
      cancelDeadline();
      responseStream.off('close', onClose);
      // Log delivery runs after the client has its last byte, inside the invocation.
      if (gateway?.flush) await gateway.flush().catch((err) => logger?.error('flush failed', { error: String(err) }));
    }
    if (failedMidStream) throw failedMidStream.error;
  };
}
