/**
 * The one scrubbing point for text that comes from an upstream. Whatever path a provider's words
 * take to the client, an attempt log or a log line (an HTTP error answer, an error event inside a
 * stream, a malformed answer, an exception thrown while reading one), they leave the provider layer
 * through `scrubbingAdapter`, which the core wraps around every adapter it calls. A provider that
 * echoes the credential it was sent therefore cannot leak it, whichever of those paths it picks.
 */
import type { ChatCompletionChunk } from '../apischema/openai';
import { type ChatResult, type ProviderAdapter, UpstreamError } from './provider';

/** Longest upstream message kept: enough to fix a bad request, too little to carry a whole echoed body. */
export const MAX_UPSTREAM_MESSAGE_CHARS = 2000;
const MAX_UPSTREAM_CODE_CHARS = 200;

/**
 * Credential shapes providers and clouds use, redacted even when they are not this call's own key
 * (a provider may echo another header, or a rotated key). Each alternative is a fixed prefix and
 * one bounded character class, so a scan is linear in the text.
 */
const CREDENTIAL_SHAPES = /\b(?:sk|key|AIza|gsk|xai)[-_A-Za-z0-9]{12,}|\b(?:AKIA|ASIA)[A-Z0-9]{16}\b|\bBearer\s+[-._~+/=A-Za-z0-9]{8,}/g;

/** Remove credentials from text that came from upstream: known key shapes, and the call's own secret wherever it appears. */
export function scrubSecret(text: string, secret?: string): string {
  let out = text.replace(CREDENTIAL_SHAPES, '[redacted]');
  if (secret && secret.length >= 6) out = out.split(secret).join('[redacted]');
  return out;
}

/**
 * What a provider call threw, safe to show and log: an UpstreamError with its message and code
 * scrubbed and bounded (the same object when nothing changed), or any other error with its message
 * and stack scrubbed in place (a parser's message can quote the bytes it choked on).
 */
export function scrubUpstreamFailure(err: unknown, secret?: string): unknown {
  if (err instanceof UpstreamError) {
    const message = scrubSecret(err.message, secret).slice(0, MAX_UPSTREAM_MESSAGE_CHARS);
    const code = err.upstreamCode === undefined ? undefined : scrubSecret(err.upstreamCode, secret).slice(0, MAX_UPSTREAM_CODE_CHARS);
    if (message === err.message && code === err.upstreamCode) return err;
    const scrubbed = new UpstreamError(err.kind, message, err.status, code, err.retryAfterMs);
    if (err.serverToolUse) scrubbed.serverToolUse = err.serverToolUse;
    return scrubbed;
  }
  if (err instanceof Error) {
    err.message = scrubSecret(err.message, secret);
    if (typeof err.stack === 'string') err.stack = scrubSecret(err.stack, secret);
  }
  return err;
}

/** A chunk stream whose failures (in-band error events, cut or malformed streams) are scrubbed as they are thrown. */
function scrubbedChunks(chunks: AsyncIterable<ChatCompletionChunk>, secret: string | undefined): AsyncIterable<ChatCompletionChunk> {
  const rethrow = (err: unknown): never => {
    throw scrubUpstreamFailure(err, secret);
  };
  return {
    [Symbol.asyncIterator]() {
      const it = chunks[Symbol.asyncIterator]();
      return {
        next: () => it.next().then(undefined, rethrow),
        return: (value?: unknown) => (it.return ? it.return(value).then(undefined, rethrow) : Promise.resolve({ done: true as const, value: undefined })),
      };
    },
  };
}

/**
 * The adapter as the core calls it: every method's failure, and every failure while its stream is
 * read, goes through `scrubUpstreamFailure` with this call's credential. A new adapter method that
 * returns upstream text must be wrapped here too.
 */
export function scrubbingAdapter(adapter: ProviderAdapter, secret: string | undefined): ProviderAdapter {
  const scrubbed = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      throw scrubUpstreamFailure(err, secret);
    }
  };
  const { embeddings, countTokens } = adapter;
  return {
    ...adapter,
    chat: (body, call, native) =>
      scrubbed(async (): Promise<ChatResult> => {
        const result = await adapter.chat(body, call, native);
        return result.stream ? { ...result, chunks: scrubbedChunks(result.chunks, secret) } : result;
      }),
    embeddings: embeddings && ((body, call) => scrubbed(() => embeddings.call(adapter, body, call))),
    countTokens: countTokens && ((body, call, native) => scrubbed(() => countTokens.call(adapter, body, call, native))),
  };
}
