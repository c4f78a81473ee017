/**
 * POST /v1/messages: Anthropic's Messages format in, any provider behind, JSON or Anthropic SSE out.
 * The request is translated to the canonical format so limits, routing, fallback and logging work
 * as for chat completions. Anthropic targets and Claude on Bedrock receive the client's body
 * unchanged (only model and stream are set, plus the client's anthropic-beta header) and their
 * answer is returned as they sent it; every other provider is translated both ways.
 */
import { type ChatCall, defineEndpoint } from '../endpoint';
import type { ResolvedTarget } from '../models';
import { respondJson } from '../respond';
import type { GatewayServices } from '../services';
import { streamToClient } from '../stream-response';
import { estimatePromptTokens, estimateTextTokens } from '../tokens';
import { callRoute, chatAttempt } from '../upstream-call';
import { isBedrockClaude } from '../../providers/bedrock/claude-native';
import { UpstreamError } from '../../providers/types';
import { anthropicSseEncoder } from './messages/encoder';
import { anthropicOnlyBlocks, betaHeader, messagesToCanonical, validateMessagesRequest } from './messages/request';
import { canonicalToMessagesResponse } from './messages/response';

/** Targets that take the Anthropic body natively: Anthropic, and Claude on Bedrock. */
function takesNativeBody(t: ResolvedTarget): boolean {
  return t.provider.config.type === 'anthropic' || (t.provider.config.type === 'bedrock' && isBedrockClaude(t.model));
}

export const messagesEndpoint = (s: GatewayServices) =>
  defineEndpoint<ChatCall>({
    method: 'POST',
    path: '/v1/messages',
    errorFormat: 'anthropic',
    streams: true,
    parse(raw, ctx) {
      const request = messagesToCanonical(validateMessagesRequest(raw), betaHeader(ctx.request.headers.get('anthropic-beta')));
      return { kind: 'chat', model: request.model, request, promptTokens: estimatePromptTokens(request), outputTokens: request.max_tokens ?? 0 };
    },
    async handle(ctx, call) {
      const body = call.request;
      const onlyAnthropic = anthropicOnlyBlocks(body);
      const { value, target } = await callRoute(s, ctx, async (t, upstream) => {
        if (onlyAnthropic.length && !takesNativeBody(t))
          throw new UpstreamError(
            'http',
            `content blocks of type ${onlyAnthropic.join(', ')} need an Anthropic model; '${t.provider.name}' cannot serve them`,
            400,
            'unsupported_content',
          );
        return chatAttempt(s, body, t, upstream);
      });
      if (value.kind === 'stream') {
        return streamToClient({ services: s, ctx, target, peeked: value.peeked, encoder: anthropicSseEncoder(body.model), promptEstimate: call.promptTokens });
      }
      const message = canonicalToMessagesResponse(value.response);
      const usage = value.response.usage;
      const completion = usage?.completion_tokens ?? estimateTextTokens(JSON.stringify(message.content));
      return respondJson(s, ctx, target, { prompt: usage?.prompt_tokens ?? call.promptTokens, completion }, message, message);
    },
  });
