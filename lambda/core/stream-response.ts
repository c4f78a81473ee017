/**
 * Driving a canonical chunk stream to the client. The wire format is an encoder (OpenAI SSE here;
 * the Anthropic Messages endpoint brings its own), so the honesty rules live in one place:
 * a stream that fails after its first byte ends with an in-band error event and no end marker,
 * and a client that disconnects stops the upstream call.
 */
import { GatewayError, errorBody, errors, toGatewayError } from './errors';
import type { ResolvedTarget } from './models';
import type { RequestContext } from './request-context';
import { deliver, gatewayHeaders } from './respond';
import type { GatewayServices } from './services';
import { encodeSseData } from './sse';
import type { PeekedStream } from './stream';
import { upstreamToGatewayError } from './upstream-errors';
import { estimateTextTokens } from './tokens';
import type { ChatCompletionChunk, ServerToolUse, Usage } from '../apischema/openai';
import { UpstreamError } from './provider';

export interface StreamEncoder {
  /** Bytes for one canonical chunk (may be none, e.g. a hidden usage chunk). */
  chunk(chunk: ChatCompletionChunk): Uint8Array[];
  /** The end marker of a complete stream ([DONE], message_stop, response.completed); may first finish work of its own (storing the response). */
  done(): Uint8Array[] | Promise<Uint8Array[]>;
  /** The in-band error event that ends a failed stream. */
  error(err: GatewayError): Uint8Array[];
  readonly contentType: string;
}

/** OpenAI chat.completion.chunk SSE. Hides the usage chunk from clients that did not ask for it. */
export function openAiSseEncoder(clientWantsUsage: boolean): Omit<StreamEncoder, 'done'> & { done(): Uint8Array[] } {
  return {
    contentType: 'text/event-stream; charset=utf-8',
    chunk(chunk) {
      if (chunk.server_tool_use) {
        const { server_tool_use: _tally, ...rest } = chunk;
        if (rest.choices.length === 0 && !rest.usage) return [];
        chunk = rest;
      }
      if (!clientWantsUsage && chunk.usage) {
        if (chunk.choices.length === 0) return [];
        chunk = { ...chunk, usage: undefined };
      }
      return [encodeSseData(chunk)];
    },
    done: () => [encodeSseData('[DONE]')],
    error: (gw) => [encodeSseData(errorBody(gw, 'openai'))],
  };
}

export interface StreamToClientOptions {
  readonly services: GatewayServices;
  readonly ctx: RequestContext;
  readonly target: ResolvedTarget;
  readonly peeked: PeekedStream;
  readonly encoder: StreamEncoder;
  /** Prompt tokens estimated before the call, used when the upstream reports no usage. */
  readonly promptEstimate: number;
}

/** Silence allowed inside a stream: below API Gateway's 5-minute idle cut, so the client gets our error event, not a dropped connection. */
export const DEFAULT_STREAM_IDLE_MS = 180_000;
/** Longest stream, from the request's start: ends cleanly before API Gateway's 15-minute integration cap. */
export const DEFAULT_STREAM_MAX_DURATION_MS = 870_000;

/** Ends a committed stream that hit one of the gateway's own stream limits. */
class StreamLimitReached extends Error {
  constructor(readonly gatewayError: GatewayError) {
    super(gatewayError.message);
  }
}

type Next = IteratorResult<ChatCompletionChunk>;

/** The upstream's next chunk, or a StreamLimitReached when it stays silent past `ms`. */
function nextWithin(rest: AsyncIterator<ChatCompletionChunk>, ms: number, limit: () => GatewayError): Promise<Next> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const silence = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StreamLimitReached(limit())), Math.max(0, ms));
  });
  return Promise.race([rest.next(), silence]).finally(() => clearTimeout(timer));
}

/** Close the body; a client that cancelled meanwhile has closed it already. */
function closeQuietly(controller: ReadableStreamDefaultController<Uint8Array>): void {
  try {
    controller.close();
  } catch {
    /* cancelled */
  }
}

/** A usage with the stream's running tally of server tool calls when it reports none of its own. */
function withToolCalls(usage: Usage, tally: ServerToolUse | undefined): Usage {
  return tally && !usage.server_tool_use ? { ...usage, server_tool_use: tally } : usage;
}

export function streamToClient(o: StreamToClientOptions): Response {
  const { services: s, ctx, target, peeked, encoder } = o;
  // The response ends at the stream's last byte (or when the client leaves), not when it is returned.
  ctx.endWithBody();
  const queue: ChatCompletionChunk[] = [...peeked.buffered];
  let upstreamDone = peeked.ended;
  /** Tool-call fragments delivered, estimated as text once at the end (per-fragment rounding would inflate it). */
  const deliveredToolCalls: string[] = [];
  let usageSeen: Usage | undefined;
  /** Server tool calls the upstream completed so far (a chunk's running tally), for a stream cut before its usage. */
  let toolsSeen: ServerToolUse | undefined;
  const collected: string[] = [];
  const idleMs = target.timeouts.idleMs ?? DEFAULT_STREAM_IDLE_MS;
  const maxDurationMs = s.config.settings?.streamMaxDurationMs ?? DEFAULT_STREAM_MAX_DURATION_MS;
  const deadline = ctx.startedAt + maxDurationMs;
  let ended = false;

  /** Report the response's end exactly once, whichever way the stream ends (done, error, limit, cancel), with what was delivered. */
  const endWith = async (status: number, errorCode?: string) => {
    if (ended) return;
    ended = true;
    const text = collected.join('');
    if (usageSeen) deliver(s, ctx, target, usageSeen.prompt_tokens, usageSeen.completion_tokens, text, withToolCalls(usageSeen, toolsSeen));
    else {
      const completion = estimateTextTokens(text + deliveredToolCalls.join(''));
      const billed = toolsSeen
        ? { prompt_tokens: o.promptEstimate, completion_tokens: completion, total_tokens: o.promptEstimate + completion, server_tool_use: toolsSeen }
        : undefined;
      deliver(s, ctx, target, o.promptEstimate, completion, text, billed);
    }
    await ctx.end({ status, errorCode });
  };

  /** Stop the upstream call. Its iterator may be parked on a read, so abort the fetch rather than wait on return(). */
  const stopUpstream = (reason: unknown) => {
    ctx.abortUpstream?.(reason);
    peeked.rest.return?.(undefined)?.catch(() => undefined);
  };

  const nextChunk = async (): Promise<ChatCompletionChunk | undefined> => {
    if (queue.length) return queue.shift();
    if (upstreamDone) return undefined;
    const remaining = deadline - s.now();
    const byDeadline = remaining <= idleMs;
    const r = await nextWithin(peeked.rest, byDeadline ? remaining : idleMs, () =>
      byDeadline ? errors.streamMaxDuration(maxDurationMs) : errors.streamIdle(target.provider.name, idleMs),
    );
    if (r.done) {
      upstreamDone = true;
      return undefined;
    }
    return r.value;
  };

  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        for (;;) {
          const chunk = await nextChunk();
          if (ended) return;
          if (!chunk) {
            for (const b of await encoder.done()) controller.enqueue(b);
            // The client can read the end marker now; the stream closes only once the request has
            // settled and its record is written, so a transport that flushes the log when the body
            // ends (the Lambda adapter, before the invocation ends) never flushes before the record.
            await endWith(200);
            closeQuietly(controller);
            return;
          }
          if (chunk.usage) usageSeen = chunk.usage;
          if (chunk.server_tool_use) toolsSeen = chunk.server_tool_use;
          for (const c of chunk.choices) {
            if (typeof c.delta?.content === 'string') {
              collected.push(c.delta.content);
            }
            if (c.delta?.tool_calls) deliveredToolCalls.push(JSON.stringify(c.delta.tool_calls));
          }
          const out = encoder.chunk(chunk);
          if (!out.length) continue;
          for (const b of out) controller.enqueue(b);
          return;
        }
      } catch (err) {
        if (ended) return; // the client left while we waited; cancel() has finished the request
        let gw: GatewayError;
        if (err instanceof StreamLimitReached) {
          gw = err.gatewayError;
          stopUpstream(new UpstreamError('timeout', gw.message, 504, gw.code));
        } else if (err instanceof UpstreamError) {
          gw = upstreamToGatewayError(err);
        } else if (err instanceof GatewayError) {
          // The gateway's own verdict on the answer (the output guard's block), not the upstream's failure.
          gw = err;
          stopUpstream(err);
        } else {
          gw = toGatewayError(err);
          s.logger.error('stream failed', { error: String(err), requestId: ctx.id });
        }
        if (!(err instanceof GatewayError)) {
          const status = err instanceof UpstreamError ? (err.status ?? null) : null;
          ctx.attempts.push({
            provider: target.provider.name,
            model: target.model,
            status,
            latency_ms: s.now() - ctx.startedAt,
            error: `after first byte: ${gw.code}: ${gw.message}`.slice(0, 500),
          });
        }
        // An error event and no end marker: a cut stream must never look complete.
        for (const b of encoder.error(gw)) controller.enqueue(b);
        await endWith(gw.status, gw.code);
        closeQuietly(controller);
      }
    },
    async cancel(reason) {
      // The client went away, or the transport's deadline came (its reason says which): stop the
      // upstream call and record what was delivered.
      const why = reason instanceof GatewayError ? reason : errors.clientCancelled();
      stopUpstream(new UpstreamError('timeout', why.message, why.status, why.code));
      await endWith(why.status, why.code);
    },
  });
  try {
    return new Response(body, {
      status: 200,
      headers: { 'content-type': encoder.contentType, 'cache-control': 'no-cache', ...gatewayHeaders(s, ctx) },
    });
  } catch (err) {
    // No response, so no reader will ever pull the stream: stop the upstream call and settle here.
    stopUpstream(err);
    void endWith(500, 'internal_error');
    throw err;
  }
}
