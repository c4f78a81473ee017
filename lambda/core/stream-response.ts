/**
 * Driving a canonical chunk stream to the client. The wire format is an encoder (OpenAI SSE here;
 * the Anthropic Messages endpoint brings its own), so the honesty rules live in one place:
 * a stream that fails after its first byte ends with an in-band error event and no end marker,
 * and a client that disconnects stops the upstream call.
 */
import { type GatewayError, toGatewayError } from './errors';
import type { ResolvedTarget } from './models';
import type { Pipeline } from './pipeline';
import type { Reservation } from './ports';
import type { RequestContext } from './request-context';
import { encodeSseData } from './sse';
import type { PeekedStream } from './stream';
import { upstreamToGatewayError } from './upstream-errors';
import { type ChatCompletionChunk, UpstreamError } from '../providers/types';

export interface StreamEncoder {
  /** Bytes for one canonical chunk (may be none, e.g. a hidden usage chunk). */
  chunk(chunk: ChatCompletionChunk): Uint8Array[];
  /** The end marker of a complete stream ([DONE], message_stop). */
  done(): Uint8Array[];
  /** The in-band error event that ends a failed stream. */
  error(err: GatewayError): Uint8Array[];
  readonly contentType: string;
}

/** OpenAI chat.completion.chunk SSE. Hides the usage chunk from clients that did not ask for it. */
export function openAiSseEncoder(clientWantsUsage: boolean): StreamEncoder {
  return {
    contentType: 'text/event-stream; charset=utf-8',
    chunk(chunk) {
      if (!clientWantsUsage && chunk.usage) {
        if (chunk.choices.length === 0) return [];
        chunk = { ...chunk, usage: undefined };
      }
      return [encodeSseData(chunk)];
    },
    done: () => [encodeSseData('[DONE]')],
    error: (gw) => [encodeSseData({ error: { message: gw.message, type: gw.type, code: gw.code, param: null } })],
  };
}

export interface StreamToClientOptions {
  readonly pipeline: Pipeline;
  readonly ctx: RequestContext;
  readonly reservation: Reservation;
  readonly target: ResolvedTarget;
  readonly peeked: PeekedStream;
  readonly encoder: StreamEncoder;
  /** Prompt tokens estimated before the call, used when the upstream reports no usage. */
  readonly promptEstimate: number;
}

export function streamToClient(o: StreamToClientOptions): Response {
  const { pipeline, ctx, reservation, target, peeked, encoder } = o;
  const queue: ChatCompletionChunk[] = [...peeked.buffered];
  let upstreamDone = peeked.ended;
  let deliveredChars = 0;
  let usageSeen: { prompt_tokens: number; completion_tokens: number } | undefined;
  const collected: string[] = [];

  const endWith = async (status: number, errorCode?: string) => {
    ctx.status = status;
    if (errorCode) ctx.errorCode = errorCode;
    if (usageSeen) pipeline.recordUsage(ctx, target, usageSeen.prompt_tokens, usageSeen.completion_tokens);
    else pipeline.recordUsage(ctx, target, o.promptEstimate, Math.ceil(deliveredChars / 4));
    ctx.responseBody = collected.join('');
    await pipeline.settleOrRelease(reservation, ctx, true);
    pipeline.finish(ctx);
  };

  const nextChunk = async (): Promise<ChatCompletionChunk | undefined> => {
    if (queue.length) return queue.shift();
    if (upstreamDone) return undefined;
    const r = await peeked.rest.next();
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
          if (!chunk) {
            for (const b of encoder.done()) controller.enqueue(b);
            controller.close();
            await endWith(200);
            return;
          }
          if (chunk.usage) usageSeen = chunk.usage;
          for (const c of chunk.choices) {
            if (typeof c.delta?.content === 'string') {
              deliveredChars += c.delta.content.length;
              collected.push(c.delta.content);
            }
            if (c.delta?.tool_calls) deliveredChars += JSON.stringify(c.delta.tool_calls).length;
          }
          const out = encoder.chunk(chunk);
          if (!out.length) continue;
          for (const b of out) controller.enqueue(b);
          return;
        }
      } catch (err) {
        const gw = err instanceof UpstreamError ? upstreamToGatewayError(err) : toGatewayError(err);
        if (err instanceof UpstreamError) {
          ctx.attempts.push({ provider: target.provider.name, model: target.model, status: err.status ?? null, latency_ms: pipeline.now() - ctx.startedAt, error: `${err.kind}: ${err.message}`.slice(0, 500) });
        } else {
          pipeline.logger.error('stream failed', { error: String(err), requestId: ctx.id });
        }
        for (const b of encoder.error(gw)) controller.enqueue(b);
        controller.close();
        await endWith(gw.status, gw.code);
      }
    },
    async cancel() {
      // The client went away: stop the upstream call and record what was delivered.
      await peeked.rest.return?.(undefined)?.catch(() => undefined);
      await endWith(499, 'client_cancelled');
    },
  });
  return new Response(body, {
    status: 200,
    headers: { 'content-type': encoder.contentType, 'cache-control': 'no-cache', ...pipeline.gatewayHeaders(ctx, reservation) },
  });
}
