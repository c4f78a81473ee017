/** What of a request's bodies goes into its log record, per the key's logging policy. */
import type { LoggingPolicy } from './keys';

/** Bodies are capped so one record stays well under delivery size limits. */
export const MAX_LOGGED_BODY_CHARS = 256 * 1024;

function serialise(body: unknown): string | null {
  if (body === undefined || body === null) return null;
  const s = typeof body === 'string' ? body : JSON.stringify(body);
  return s.length > MAX_LOGGED_BODY_CHARS ? s.slice(0, MAX_LOGGED_BODY_CHARS) + '…[truncated]' : s;
}

export function bodiesForPolicy(policy: LoggingPolicy, request: unknown, response: unknown): { request: string | null; response: string | null } {
  if (policy === 'metadata') return { request: null, response: null };
  // 'redacted' is handled by the redaction module once it exists; until then it logs nothing rather than too much.
  if (policy === 'redacted') return { request: null, response: null };
  return { request: serialise(request), response: serialise(response) };
}
