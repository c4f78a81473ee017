/**
 * Bedrock SDK failures → UpstreamError with the HTTP status the router and the client understand:
 * ThrottlingException is 429 (so fallback and Retry-After work), ValidationException 400, and so on.
 */
import { fetchFailure } from '../http-errors';
import { type ProviderCall, UpstreamError } from '../types';

/** Status by exception name, for errors that arrive in-band (event stream) without an HTTP status. */
const STATUS_BY_NAME: Record<string, number> = {
  ThrottlingException: 429,
  ServiceQuotaExceededException: 429,
  ValidationException: 400,
  ResourceNotFoundException: 404,
  AccessDeniedException: 403,
  UnrecognizedClientException: 403,
  ModelNotReadyException: 503,
  ServiceUnavailableException: 503,
  ModelTimeoutException: 504,
  InternalServerException: 500,
  ModelErrorException: 502,
  ModelStreamErrorException: 502,
};

interface SdkError {
  name?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

/** Exception events inside a stream carry a definite status too, so they are 'http' failures like any other. */
export function bedrockError(err: unknown, call: ProviderCall): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (call.signal.aborted) return fetchFailure(err, call.signal, call.provider.name);
  const e = (err ?? {}) as SdkError;
  const name = e.name ?? '';
  const status = STATUS_BY_NAME[name] ?? e.$metadata?.httpStatusCode;
  if (!status && !e.$fault) {
    // Not an AWS error answer: the endpoint could not be reached, or the connection broke.
    return fetchFailure(err, call.signal, call.provider.name);
  }
  const httpStatus = status ?? (e.$fault === 'client' ? 400 : 502);
  const retryAfter = Number(e.$response?.headers?.['retry-after']);
  const message =
    httpStatus === 401 || httpStatus === 403
      ? `${call.provider.name} rejected the gateway's AWS credentials (${name || `HTTP ${httpStatus}`})`
      : `${call.provider.name}: ${e.message ?? name}`;
  return new UpstreamError('http', message, httpStatus, name || undefined, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined);
}
