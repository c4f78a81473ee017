/** Turning a provider's failed HTTP answer into an UpstreamError, shared by every HTTP provider. */
import { UpstreamError } from './types';

/** Parse `retry-after-ms` / `Retry-After` (seconds or HTTP date) into ms. */
export function parseRetryAfter(headers: Headers, now = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const ra = headers.get('retry-after');
  if (!ra) return undefined;
  if (/^\d+(\.\d+)?$/.test(ra.trim())) return Number(ra) * 1000;
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Google APIs (Gemini) put the wait in the body: `details: [{ "@type": "…RetryInfo", "retryDelay": "27s" }]`. */
function googleRetryDelayMs(details: unknown): number | undefined {
  if (!Array.isArray(details)) return undefined;
  for (const d of details) {
    const delay = (d as { retryDelay?: unknown })?.retryDelay;
    const m = typeof delay === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(delay) : null;
    if (m) return Number(m[1]) * 1000;
  }
  return undefined;
}

/**
 * Build the error for a non-2xx upstream answer. The provider's message is kept (it helps the
 * caller fix a bad request) except on 401/403, where it is about the gateway's own credential.
 * Scrubbing and bounding it is core/upstream-scrub.ts's job, for this and every other upstream message.
 */
export async function upstreamHttpError(res: Response, providerName: string): Promise<UpstreamError> {
  let message = `${providerName} answered HTTP ${res.status}`;
  let code: string | undefined;
  let bodyRetryAfterMs: number | undefined;
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text);
    const err = body?.error ?? body;
    const m = typeof err?.message === 'string' ? err.message : typeof body?.message === 'string' ? body.message : undefined;
    if (m) message = `${providerName}: ${m}`;
    bodyRetryAfterMs = googleRetryDelayMs(err?.details);
    code = typeof err?.code === 'string' ? err.code : typeof err?.type === 'string' ? err.type : typeof err?.status === 'string' ? err.status : undefined;
  } catch {
    /* not JSON: keep the generic message */
  }
  if (res.status === 401 || res.status === 403) message = `${providerName} rejected the gateway's provider credential (HTTP ${res.status})`;
  return new UpstreamError('http', message, res.status, code, parseRetryAfter(res.headers) ?? bodyRetryAfterMs);
}

/** The cause code an HTTP client gives an answer it could not hold as a Response (a status outside 200–599, a reason phrase with control characters). */
export const MALFORMED_ANSWER_CODE = 'UPSTREAM_MALFORMED_ANSWER';

/**
 * Whether a socket-level failure means the upstream's bytes were not valid HTTP: Node's and undici's
 * parser errors (`HPE_INVALID_STATUS`, `HPE_INVALID_HEADER_TOKEN`, `HPE_HEADER_OVERFLOW`, …) and the
 * client's own refusal. The request was sent and answered with garbage: malformed, not unreachable.
 */
const isMalformedAnswer = (code: string | undefined) => code !== undefined && (code === MALFORMED_ANSWER_CODE || code.startsWith('HPE_'));

/** Map a fetch rejection to an UpstreamError (timeouts and aborts are told apart by the caller's signal). */
export function fetchFailure(err: unknown, signal: AbortSignal, providerName: string): UpstreamError {
  if (signal.aborted) {
    const reason = signal.reason;
    if (reason instanceof UpstreamError) return reason;
    return new UpstreamError('timeout', `${providerName} call was aborted`, undefined, 'aborted');
  }
  // fetch puts the socket error under `cause`; the AWS SDK's handler throws it as is.
  const cause = (err as { cause?: { code?: string } })?.cause?.code ?? (err as { code?: unknown })?.code;
  const code = typeof cause === 'string' ? cause : undefined;
  if (isMalformedAnswer(code)) return new UpstreamError('malformed', `${providerName} sent an answer that is not valid HTTP`, 502, code);
  return new UpstreamError('network', `${providerName} could not be reached${code ? ` (${code})` : ''}`, undefined, code);
}
