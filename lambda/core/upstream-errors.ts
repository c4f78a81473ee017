/** How a provider failure (after every target was tried) is answered to the client. */
import { GatewayError, errors } from './errors';
import { UpstreamError } from './provider';

/** Socket errors that mean the connection was never made, so the provider never saw the request. */
const CONNECT_FAILURES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'provider_credentials_unavailable',
]);

/**
 * Whether a failed attempt may still be billed by the provider: anything after the request was
 * sent. Not billed: a connection that was never made, and the provider's own error answer (an HTTP
 * error status, or an error event before any content). Billed: timeouts and client disconnects
 * while the provider worked, cut or malformed answers, connections broken mid-answer.
 */
export function providerMayBill(err: UpstreamError): boolean {
  if (err.kind === 'http' || err.kind === 'in_band') return false;
  if (err.kind === 'network') return !CONNECT_FAILURES.has(err.upstreamCode ?? '');
  return true;
}

/** Upstream statuses that mean the client's request itself is wrong: passed on with the provider's message. */
const CLIENT_FAULT = new Set([400, 404, 409, 413, 415, 422]);

/** The provider's Retry-After in whole seconds, at least 1 (1 when it named none). */
const retryAfterSeconds = (err: UpstreamError) => Math.max(1, Math.ceil((err.retryAfterMs ?? 1000) / 1000));

export function upstreamToGatewayError(err: UpstreamError): GatewayError {
  const status = err.status ?? 0;
  if (err.upstreamCode === 'client_cancelled') {
    return errors.clientCancelled();
  }
  if (err.upstreamCode === 'gateway_timeout') return errors.gatewayTimeout();
  // A 200 followed by an in-band error before any content (Anthropic's overloaded_error, OpenAI's
  // rate limit event) means the same as the HTTP status would have.
  if (err.kind === 'in_band') {
    const code = (err.upstreamCode ?? '').toLowerCase();
    const like =
      /rate_limit|too_many|throttl|exhausted/.test(code) || status === 429
        ? 429
        : /overload|unavailable/.test(code) || status === 503 || status === 529
          ? 503
          : undefined;
    if (like) return upstreamToGatewayError(new UpstreamError('http', err.message, like, err.upstreamCode, err.retryAfterMs));
  }
  if (err.upstreamCode === 'provider_credentials_unavailable') {
    // The gateway's own setup, not the provider's answer: say which credential to provide.
    return new GatewayError({ status: 502, type: 'upstream_error', code: 'provider_credentials_unavailable', message: err.message });
  }
  if (err.kind === 'timeout') {
    return new GatewayError({ status: 504, type: 'timeout_error', code: 'upstream_timeout', message: err.message });
  }
  if (err.kind === 'http' && status === 429) {
    return new GatewayError({
      status: 429,
      type: 'rate_limit_error',
      code: 'upstream_rate_limited',
      message: `${err.message} (every target was rate limited)`,
      retryAfterSeconds: retryAfterSeconds(err),
    });
  }
  if (err.kind === 'http' && (status === 401 || status === 403)) {
    return new GatewayError({
      status: 502,
      type: 'upstream_error',
      code: 'provider_auth_failed',
      message: `${err.message}. This is the gateway's provider credential, not your virtual key; tell the gateway operator.`,
    });
  }
  if (err.kind === 'http' && CLIENT_FAULT.has(status)) {
    return new GatewayError({ status, type: 'invalid_request_error', code: err.upstreamCode ?? 'upstream_bad_request', message: err.message });
  }
  if (err.kind === 'http' && (status === 503 || status === 529)) {
    return new GatewayError({
      status: 503,
      type: 'overloaded_error',
      code: 'upstream_unavailable',
      message: err.message,
      retryAfterSeconds: retryAfterSeconds(err),
    });
  }
  return new GatewayError({ status: 502, type: 'upstream_error', code: err.kind === 'http' ? 'upstream_error' : `upstream_${err.kind}`, message: err.message });
}
