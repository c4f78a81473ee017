/** POST /v1/chat/completions: OpenAI format in, any provider behind, JSON or SSE out. */
import type { Pipeline } from '../pipeline';
import { openAiSseEncoder, streamToClient } from '../stream-response';
import { estimatePromptTokens, estimateTextTokens } from '../tokens';
import { validateChatRequest } from '../validate';
import type { Handler } from './types';

/** Output tokens reserved when the client sets no max_tokens (settled to real usage afterwards). */
export const DEFAULT_OUTPUT_RESERVATION = 4096;

export function chatCompletionsHandler(p: Pipeline): Handler {
  return async (req, ctx) => {
    const key = await p.authenticate(req, ctx);
    const raw = await p.readBody(req, ctx);
    ctx.stream = raw.stream === true;
    const body = validateChatRequest(raw);
    const route = p.catalog.route(body.model);
    p.authorizeModel(key, body.model);

    const promptEstimate = estimatePromptTokens(body);
    const clientCap = body.max_completion_tokens ?? body.max_tokens;
    // The cap applies per choice: n choices may each produce up to it.
    const outputCap = (clientCap ?? DEFAULT_OUTPUT_RESERVATION) * Math.max(1, body.n ?? 1);
    const reservation = await p.reserve(ctx, key, route, promptEstimate, outputCap);
    // What was reserved is also the ceiling upstream: each provider gets it in its own field.
    const capped = clientCap == null ? { ...body, max_completion_tokens: DEFAULT_OUTPUT_RESERVATION } : body;

    const { value, target } = await p.callRoute(ctx, reservation, route, req.signal, (t, upstream) => p.chatAttempt(capped, t, upstream));

    if (value.kind === 'stream') {
      const encoder = openAiSseEncoder(body.stream_options?.include_usage === true);
      return streamToClient({ pipeline: p, ctx, reservation, target, peeked: value.peeked, encoder, promptEstimate });
    }
    const response = value.response;
    const usage = response.usage;
    const completion = usage?.completion_tokens ?? estimateTextTokens(JSON.stringify(response.choices.map((c) => c.message)));
    return p.respondJson(ctx, reservation, target, usage?.prompt_tokens ?? promptEstimate, completion, response, response);
  };
}
