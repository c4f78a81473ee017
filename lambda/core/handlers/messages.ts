/**
 * POST /v1/messages: Anthropic's Messages format in, any provider behind, JSON or Anthropic SSE out.
 * The request is translated to the canonical format so limits, routing, fallback and logging work
 * as for chat completions. Anthropic targets and Claude on Bedrock receive the client's body
 * unchanged (only model and stream are set, plus the client's anthropic-beta header) and their
 * answer is returned as they sent it; every other provider is translated both ways.
 */
import type { Pipeline } from '../pipeline';
import { streamToClient } from '../stream-response';
import { estimatePromptTokens, estimateTextTokens } from '../tokens';
import { isBedrockClaude } from '../../providers/bedrock/claude-native';
import { UpstreamError } from '../../providers/types';
import type { ResolvedTarget } from '../models';
import { anthropicSseEncoder } from './messages/encoder';
import { anthropicOnlyBlocks, betaHeader, messagesToCanonical, validateMessagesRequest } from './messages/request';
import { canonicalToMessagesResponse } from './messages/response';
import type { Handler } from './types';

/** Targets that take the Anthropic body natively: Anthropic, and Claude on Bedrock. */
function takesNativeBody(t: ResolvedTarget): boolean {
  return t.provider.config.type === 'anthropic' || (t.provider.config.type === 'bedrock' && isBedrockClaude(t.model));
}

export function messagesHandler(p: Pipeline): Handler {
  return async (req, ctx) => {
    const key = await p.authenticate(req, ctx);
    const raw = await p.readBody(req, ctx);
    ctx.stream = raw.stream === true;
    const body = messagesToCanonical(validateMessagesRequest(raw), betaHeader(req.headers.get('anthropic-beta')));
    const route = p.catalog.route(body.model);
    p.authorizeModel(key, body.model);
    const onlyAnthropic = anthropicOnlyBlocks(body);

    const promptEstimate = estimatePromptTokens(body);
    const reservation = await p.reserve(ctx, key, route, promptEstimate, body.max_tokens ?? 0);

    const { value, target } = await p.callRoute(ctx, reservation, route, req.signal, async (t, upstream) => {
      if (onlyAnthropic.length && !takesNativeBody(t))
        throw new UpstreamError(
          'http',
          `content blocks of type ${onlyAnthropic.join(', ')} need an Anthropic model; '${t.provider.name}' cannot serve them`,
          400,
          'unsupported_content',
        );
      return p.chatAttempt(body, t, upstream);
    });

    if (value.kind === 'stream') {
      return streamToClient({ pipeline: p, ctx, reservation, target, peeked: value.peeked, encoder: anthropicSseEncoder(body.model), promptEstimate });
    }
    const message = canonicalToMessagesResponse(value.response);
    const usage = value.response.usage;
    const completion = usage?.completion_tokens ?? estimateTextTokens(JSON.stringify(message.content));
    return p.respondJson(ctx, reservation, target, usage?.prompt_tokens ?? promptEstimate, completion, message, message);
  };
}
