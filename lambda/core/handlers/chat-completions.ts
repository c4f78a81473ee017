/** POST /v1/chat/completions: OpenAI format in, any provider behind, JSON or SSE out. */
import { type ChatCall, defineEndpoint } from '../endpoint';
import { respondJson } from '../respond';
import type { GatewayServices } from '../services';
import { openAiSseEncoder, streamToClient } from '../stream-response';
import { estimatePromptTokens, estimateTextTokens } from '../tokens';
import { chatAttempt, callChatRoute } from '../upstream-call';
import { validateChatRequest } from '../validate';

/** Output tokens reserved when the client sets no max_tokens (settled to real usage afterwards). */
export const DEFAULT_OUTPUT_RESERVATION = 4096;

export const chatCompletionsEndpoint = (s: GatewayServices) =>
  defineEndpoint<ChatCall>({
    method: 'POST',
    path: '/v1/chat/completions',
    streams: true,
    parse(raw) {
      const request = validateChatRequest(raw);
      const clientCap = request.max_completion_tokens ?? request.max_tokens;
      // The cap applies per choice: n choices may each produce up to it.
      const outputTokens = (clientCap ?? DEFAULT_OUTPUT_RESERVATION) * Math.max(1, request.n ?? 1);
      return { kind: 'chat', model: request.model, request, promptTokens: estimatePromptTokens(request), outputTokens };
    },
    async handle(ctx, call) {
      const body = call.request;
      // What was reserved is also the ceiling upstream: each provider gets it in its own field.
      const capped = (body.max_completion_tokens ?? body.max_tokens) == null ? { ...body, max_completion_tokens: DEFAULT_OUTPUT_RESERVATION } : body;
      const { value, target } = await callChatRoute(s, ctx, (t, upstream) => chatAttempt(s, capped, t, upstream));
      if (value.kind === 'stream') {
        const encoder = openAiSseEncoder(body.stream_options?.include_usage === true);
        return streamToClient({ services: s, ctx, target, peeked: value.peeked, encoder, promptEstimate: call.promptTokens });
      }
      const response = value.response;
      const usage = response.usage;
      const completion = usage?.completion_tokens ?? estimateTextTokens(JSON.stringify(response.choices.map((c) => c.message)));
      return respondJson(s, ctx, target, { prompt: usage?.prompt_tokens ?? call.promptTokens, completion, billed: usage }, response, response);
    },
  });
