/**
 * What of a request's bodies goes into its log record, per the key's logging policy:
 * - 'metadata': no bodies at all;
 * - 'redacted': bodies with personal data and secrets-looking strings replaced (redaction.ts);
 * - 'full': bodies as sent and received, personal data included.
 * Whatever the policy, secrets-looking strings (provider keys, virtual keys, tokens pasted into a
 * prompt) and values under credential-named fields are never recorded: a credential in the log
 * store would be a second copy to leak, and no audit question needs it. Embedding vectors are
 * summarised (numbers nobody reads, megabytes per request).
 */
import type { LoggingPolicy } from './keys';
import { RedactionBudget, redactSecrets, redactText, redactValue } from './redaction';
import { truncateChars } from './oversized-bodies';

/**
 * A ceiling against pathological bodies. Requests are already capped (10 MB); sinks move bodies too
 * large for one delivery record to a body store, so this only bounds the memory one record takes.
 */
export const MAX_LOGGED_BODY_CHARS = 16 * 1024 * 1024;

/** Replace embedding vectors by their size: `"[embedding: 1536 values]"`. */
export function summariseEmbeddings(body: unknown): unknown {
  if (!body || typeof body !== 'object' || !Array.isArray((body as { data?: unknown }).data)) return body;
  const data = (body as { data: unknown[] }).data.map((item) => {
    if (!item || typeof item !== 'object' || !('embedding' in item)) return item;
    const e = (item as { embedding: unknown }).embedding;
    const size = Array.isArray(e) ? `${e.length} values` : typeof e === 'string' ? `${e.length} base64 chars` : 'omitted';
    return { ...item, embedding: `[embedding: ${size}]` };
  });
  return { ...body, data };
}

function serialise(body: unknown, redact: (text: string) => string, budget: RedactionBudget): string | null {
  if (body === undefined || body === null) return null;
  const s = typeof body === 'string' ? budget.apply(body, redact) : JSON.stringify(redactValue(body, redact, budget));
  return truncateChars(s, MAX_LOGGED_BODY_CHARS);
}

export function bodiesForPolicy(policy: LoggingPolicy, request: unknown, response: unknown): { request: string | null; response: string | null } {
  if (policy !== 'full' && policy !== 'redacted') return { request: null, response: null };
  const redact = policy === 'redacted' ? redactText : redactSecrets;
  // One budget for both bodies: the work one record costs is bounded whatever the bodies hold.
  const budget = new RedactionBudget();
  return { request: serialise(request, redact, budget), response: serialise(summariseEmbeddings(response), redact, budget) };
}
