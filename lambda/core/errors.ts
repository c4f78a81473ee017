/**
 * One error type for everything the gateway answers with a non-2xx status.
 * Handlers throw it; `renderError` turns it into the client's wire format in one place.
 */
import { BufferedResponse } from './buffered-response';
export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'upstream_error'
  | 'timeout_error'
  | 'overloaded_error'
  /** A USD budget is exhausted (OpenAI's type and code for an exhausted quota). */
  | 'insufficient_quota';

export interface GatewayErrorInit {
  status: number;
  type: ErrorType;
  code: string;
  message: string;
  param?: string | null;
  /** Seconds the client should wait before retrying (rendered as `Retry-After`). */
  retryAfterSeconds?: number;
  headers?: Record<string, string>;
}

export class GatewayError extends Error {
  readonly status: number;
  readonly type: ErrorType;
  readonly code: string;
  readonly param: string | null;
  readonly retryAfterSeconds?: number;
  readonly headers: Record<string, string>;

  constructor(init: GatewayErrorInit) {
    super(init.message);
    this.name = 'GatewayError';
    this.status = init.status;
    this.type = init.type;
    this.code = init.code;
    this.param = init.param ?? null;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.headers = init.headers ?? {};
  }
}

/** 10485760 → '10 MB', 65536 → '64 KB', 1500 → '1500 bytes' (limits are rarely round in other units). */
function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / 1024 / 1024} MB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KB`;
  return `${n} bytes`;
}

export const errors = {
  badRequest: (message: string, param: string | null = null, code = 'invalid_request') =>
    new GatewayError({ status: 400, type: 'invalid_request_error', code, message, param }),
  missingKey: () =>
    new GatewayError({
      status: 401,
      type: 'authentication_error',
      code: 'missing_api_key',
      message: 'No API key provided. Pass your virtual key as "Authorization: Bearer sk-gw-...".',
    }),
  invalidKey: () =>
    new GatewayError({
      status: 401,
      type: 'authentication_error',
      code: 'invalid_api_key',
      message: 'Incorrect API key provided. Ask your gateway administrator for a valid virtual key.',
    }),
  revokedKey: () => new GatewayError({ status: 403, type: 'permission_error', code: 'key_revoked', message: 'This API key has been revoked.' }),
  expiredKey: () => new GatewayError({ status: 403, type: 'permission_error', code: 'key_expired', message: 'This API key has expired.' }),
  modelNotAllowed: (model: string) =>
    new GatewayError({
      status: 403,
      type: 'permission_error',
      code: 'model_not_allowed',
      message: `This API key is not allowed to use model '${model}'.`,
      param: 'model',
    }),
  /** A key or team with a USD budget asked for a route whose spend could not be counted. */
  modelNotPriced: (target: string) =>
    new GatewayError({
      status: 403,
      type: 'permission_error',
      code: 'model_not_priced',
      message: `'${target}' has no price in the gateway's pricing table, so its spend cannot be counted against the USD budget of this key or its team. Ask the gateway's operators to price it (config "pricing"), or use a priced model.`,
      param: 'model',
    }),
  unknownModel: (model: string) =>
    new GatewayError({
      status: 404,
      type: 'invalid_request_error',
      code: 'model_not_found',
      message: `The model '${model}' does not exist or is not configured on this gateway.`,
      param: 'model',
    }),
  notFound: (method: string, path: string) =>
    new GatewayError({
      status: 404,
      type: 'not_found_error',
      code: 'route_not_found',
      message: `No route for ${method} ${path}.`,
    }),
  methodNotAllowed: (method: string, path: string) =>
    new GatewayError({
      status: 405,
      type: 'invalid_request_error',
      code: 'method_not_allowed',
      message: `Method ${method} is not allowed on ${path}.`,
    }),
  tooLarge: (limitBytes: number) =>
    new GatewayError({
      status: 413,
      type: 'request_too_large',
      code: 'request_too_large',
      message: `Request body exceeds the ${formatBytes(limitBytes)} limit.`,
    }),
  /** The client went away before the answer (nginx's 499): only ever seen in logs, never by the client. */
  bodyTimeout: (ms: number) =>
    new GatewayError({
      status: 408,
      type: 'invalid_request_error',
      code: 'request_timeout',
      message: `The request body did not arrive within ${Math.round(ms / 1000)} s; send it faster, or in one piece.`,
    }),
  clientCancelled: () => new GatewayError({ status: 499, type: 'api_error', code: 'client_cancelled', message: 'The client closed the request.' }),
  /**
   * The gateway's own time ran out: the transport ended the request before the function's hard
   * limit (on Lambda, shortly before the invocation deadline) so that it could still settle and be
   * logged. Neither the client nor the provider did this, so it is neither 499 nor an upstream timeout.
   */
  gatewayTimeout: () =>
    new GatewayError({
      status: 504,
      type: 'timeout_error',
      code: 'gateway_timeout',
      message: "The gateway ran out of time for this request (its invocation's deadline) and ended it; the answer is missing or incomplete.",
    }),
  /** A committed stream ran into the gateway's maximum stream duration (ended in-band). */
  streamMaxDuration: (maxDurationMs: number) =>
    new GatewayError({
      status: 504,
      type: 'timeout_error',
      code: 'stream_max_duration',
      message: `The stream reached the gateway's maximum duration of ${maxDurationMs} ms and was ended; the answer is incomplete.`,
    }),
  /** A committed stream's provider went silent past the idle limit (ended in-band). */
  streamIdle: (provider: string, idleMs: number) =>
    new GatewayError({
      status: 504,
      type: 'timeout_error',
      code: 'upstream_idle_timeout',
      message: `${provider} sent nothing for ${idleMs} ms; the stream was ended and the answer is incomplete.`,
    }),
  internal: (message = 'The gateway hit an unexpected error while handling the request.') =>
    new GatewayError({ status: 500, type: 'api_error', code: 'internal_error', message }),
  unavailable: (message: string, retryAfterSeconds = 1, code = 'service_unavailable') =>
    new GatewayError({ status: 503, type: 'api_error', code, message, retryAfterSeconds }),
};

/**
 * Why an aborted request ended: the reason the transport gave when it is a GatewayError (the
 * Lambda adapter's deadline gives `gatewayTimeout`), otherwise the client went away.
 */
export function requestEndedBy(signal: AbortSignal): GatewayError {
  return signal.reason instanceof GatewayError ? signal.reason : errors.clientCancelled();
}

/** Normalise anything thrown into a GatewayError; unknown errors become a generic 500 that leaks nothing. */
export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return errors.internal();
}

export type ErrorFormat = 'openai' | 'anthropic';

/** Anthropic's error `type` for a status, per its documented error list. */
function anthropicType(err: GatewayError): string {
  switch (err.status) {
    case 400:
      return 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 529:
      return 'overloaded_error';
    default:
      return err.status === 503 ? 'overloaded_error' : 'api_error';
  }
}

export function errorBody(err: GatewayError, format: ErrorFormat): unknown {
  if (format === 'anthropic') {
    return { type: 'error', error: { type: anthropicType(err), message: err.message } };
  }
  return { error: { message: err.message, type: err.type, code: err.code, param: err.param } };
}

export function errorHeaders(err: GatewayError): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...err.headers };
  if (err.retryAfterSeconds !== undefined) headers['retry-after'] = String(Math.max(0, Math.ceil(err.retryAfterSeconds)));
  return headers;
}

export function renderError(err: GatewayError, format: ErrorFormat, extraHeaders: Record<string, string> = {}): Response {
  return new BufferedResponse(JSON.stringify(errorBody(err, format)), {
    status: err.status,
    headers: { ...errorHeaders(err), ...extraHeaders },
  });
}
