/** POST /v1/chat/completions: OpenAI format in, any provider behind, JSON or SSE out. */
import { jsonResponse } from '../buffered-response';
import { readJsonObject } from '../body';
import type { Pipeline } from '../pipeline';
import { peekFirstContent } from '../stream';
import { openAiSseEncoder, streamToClient } from '../stream-response';
import { estimatePromptTokens, estimateTextTokens } from '../tokens';
import { validateChatRequest } from '../validate';
import type { ChatRequest } from '../../providers/types';
import type { Handler } from './types';

/** Output tokens reserved when the client sets no max_tokens (settled to real usage afterwards). */
export const DEFAULT_OUTPUT_RESERVATION = 4096;

export function chatCompletionsHandler(p: Pipeline): Handler {
  return async (req, ctx) => {
    const key = await p.authenticate(req, ctx);
    const raw = await readJsonObject(req, p.maxBodyBytes);
    ctx.requestBody = raw;
    if (typeof raw.model === 'string') ctx.requestedModel = raw.model;
    ctx.stream = raw.stream === true;
    const body = validateChatRequest(raw);
    const route = p.catalog.route(body.model);
    p.authorizeModel(key, body.model);

    const promptEstimate = estimatePromptTokens(body);
    // The cap applies per choice: n choices may each produce up to it.
    const outputCap = (body.max_completion_tokens ?? body.max_tokens ?? DEFAULT_OUTPUT_RESERVATION) * Math.max(1, body.n ?? 1);
    const first = route.targets[0];
    const costEstimate = p.prices.cost(first.provider.name, first.model, { prompt_tokens: promptEstimate, completion_tokens: outputCap }) ?? 0;
    const reservation = await p.limiter.reserve(key, { tokens: promptEstimate + outputCap, costUsd: costEstimate }, ctx.id);

    const { value, target } = await p.callRoute(ctx, reservation, body.model, req.signal, async (t, signal) => {
      const { adapter, call } = await p.providerCall(t, signal);
      const result = await adapter.chat({ ...body, model: t.model } as ChatRequest, call);
      if (!result.stream) return { kind: 'json' as const, response: result.response };
      // Commit to this target only once it has sent real content: errors before that can still fall back.
      return { kind: 'stream' as const, peeked: await peekFirstContent(result.chunks) };
    });

    if (value.kind === 'stream') {
      const encoder = openAiSseEncoder(body.stream_options?.include_usage === true);
      return streamToClient({ pipeline: p, ctx, reservation, target, peeked: value.peeked, encoder, promptEstimate });
    }
    const response = value.response;
    const usage = response.usage;
    const completionFallback = estimateTextTokens(JSON.stringify(response.choices.map((c) => c.message)));
    p.recordUsage(ctx, target, usage?.prompt_tokens ?? promptEstimate, usage?.completion_tokens ?? completionFallback);
    ctx.responseBody = response;
    await p.settleOrRelease(reservation, ctx, true);
    return jsonResponse(response, 200, p.gatewayHeaders(ctx, reservation));
  };
}
