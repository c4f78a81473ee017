/**
 * POST /v1/messages: Anthropic's Messages format in, any provider behind, JSON or Anthropic SSE out.
 * The request is translated to the canonical format so limits, routing, fallback and logging work
 * as for chat completions. Anthropic targets and Claude on Bedrock receive the client's body
 * unchanged (only model and stream are set, plus the client's anthropic-beta header) and their
 * answer is returned as they sent it; every other provider is translated both ways.
 */
import { jsonResponse } from '../buffered-response';
import { readJsonObject } from '../body';
import type { Pipeline } from '../pipeline';
import { peekFirstContent } from '../stream';
import { streamToClient } from '../stream-response';
import { estimatePromptTokens, estimateTextTokens } from '../tokens';
import { isBedrockClaude } from '../../providers/bedrock/claude-native';
import { type ChatRequest, UpstreamError } from '../../providers/types';
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
    const raw = await readJsonObject(req, p.maxBodyBytes);
    ctx.requestBody = raw;
    if (typeof raw.model === 'string') ctx.requestedModel = raw.model;
    ctx.stream = raw.stream === true;
    const body = messagesToCanonical(validateMessagesRequest(raw), betaHeader(req.headers.get('anthropic-beta')));
    const route = p.catalog.route(body.model);
    p.authorizeModel(key, body.model);
    const onlyAnthropic = anthropicOnlyBlocks(body);

    const promptEstimate = estimatePromptTokens(body);
    const outputCap = body.max_tokens ?? 0;
    const first = route.targets[0];
    const costEstimate = p.prices.cost(first.provider.name, first.model, { prompt_tokens: promptEstimate, completion_tokens: outputCap }) ?? 0;
    const reservation = await p.limiter.reserve(key, { tokens: promptEstimate + outputCap, costUsd: costEstimate }, ctx.id);

    const { value, target } = await p.callRoute(ctx, reservation, body.model, req.signal, async (t, signal) => {
      if (onlyAnthropic.length && !takesNativeBody(t))
        throw new UpstreamError('http', `content blocks of type ${onlyAnthropic.join(', ')} need an Anthropic model; '${t.provider.name}' cannot serve them`, 400, 'unsupported_content');
      const { adapter, call } = await p.providerCall(t, signal);
      const result = await adapter.chat({ ...body, model: t.model } as ChatRequest, call);
      if (!result.stream) return { kind: 'json' as const, response: result.response };
      return { kind: 'stream' as const, peeked: await peekFirstContent(result.chunks) };
    });

    if (value.kind === 'stream') {
      return streamToClient({ pipeline: p, ctx, reservation, target, peeked: value.peeked, encoder: anthropicSseEncoder(body.model), promptEstimate });
    }
    const message = canonicalToMessagesResponse(value.response);
    const usage = value.response.usage;
    p.recordUsage(ctx, target, usage?.prompt_tokens ?? promptEstimate, usage?.completion_tokens ?? estimateTextTokens(JSON.stringify(message.content)));
    ctx.responseBody = message;
    await p.settleOrRelease(reservation, ctx, true);
    return jsonResponse(message, 200, p.gatewayHeaders(ctx, reservation));
  };
}
