/**
 * POST /v1/messages: Anthropic's Messages format in, any provider behind, JSON or Anthropic SSE out.
 * The request is translated to the canonical format so limits, routing, fallback and logging work
 * as for chat completions. A target whose provider speaks the Messages format (Anthropic, Claude
 * on Bedrock: the provider says so) receives the client's body unchanged (only model and stream
 * are set, plus the client's anthropic-beta header) and its answer is returned as it sent it;
 * every other provider is translated both ways.
 */
import { type ChatCall, defineEndpoint } from '../endpoint';
import { respondJson } from '../respond';
import type { GatewayServices } from '../services';
import { streamToClient } from '../stream-response';
import { estimatePromptTokens, estimateTextTokens } from '../tokens';
import { callChatRoute, chatAttempt, nativeFor } from '../upstream-call';
import { UpstreamError } from '../provider';
import { anthropicSseEncoder } from './messages/encoder';
import { anthropicOnlyBlocks, betaHeader, messagesToCanonical, nativeMessagesRequest, validateMessagesRequest } from './messages/request';
import { canonicalToMessagesResponse } from './messages/response';

export const messagesEndpoint = (s: GatewayServices) =>
  defineEndpoint<ChatCall>({
    method: 'POST',
    path: '/v1/messages',
    errorFormat: 'anthropic',
    streams: true,
    parse(raw, ctx) {
      const body = validateMessagesRequest(raw);
      const native = nativeMessagesRequest(body, betaHeader(ctx.request.headers.get('anthropic-beta')));
      const request = messagesToCanonical(body);
      return { kind: 'chat', model: request.model, request, native, promptTokens: estimatePromptTokens(request), outputTokens: request.max_tokens ?? 0 };
    },
    async handle(ctx, call) {
      const body = call.request;
      const onlyAnthropic = anthropicOnlyBlocks(body);
      const { value, target } = await callChatRoute(s, ctx, async (t, upstream) => {
        const native = nativeFor(s, t, call.native);
        if (onlyAnthropic.length && !native)
          throw new UpstreamError(
            'http',
            `content blocks of type ${onlyAnthropic.join(', ')} need an Anthropic model; '${t.provider.name}' cannot serve them`,
            400,
            'unsupported_content',
          );
        return chatAttempt(s, body, t, upstream, native);
      });
      // The upstream's own Messages answer, when a target that speaks the format served it.
      const native = value.native?.format === 'messages' ? value.native : undefined;
      if (value.kind === 'stream') {
        return streamToClient({
          services: s,
          ctx,
          target,
          peeked: value.peeked,
          encoder: anthropicSseEncoder(body.model, native),
          promptEstimate: call.promptTokens,
        });
      }
      const message = canonicalToMessagesResponse(value.response, native);
      const usage = value.response.usage;
      const completion = usage?.completion_tokens ?? estimateTextTokens(JSON.stringify(message.content));
      return respondJson(s, ctx, target, { prompt: usage?.prompt_tokens ?? call.promptTokens, completion, billed: usage }, message, message);
    },
  });
